using Shards.Cli;

return await ShardsCli.RunAsync(args);
