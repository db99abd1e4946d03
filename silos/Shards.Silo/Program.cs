using Shards.Server.Silo;

return await ShardsSiloHost.RunAsync(args);
