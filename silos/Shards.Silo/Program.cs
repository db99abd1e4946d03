using Shards.Hosting.Silo;

return await ShardsSiloHost.RunAsync(args);
