using Shards.Client.Cli;

return await ShardsCli.RunAsync(args);
