namespace Shards.Storage.Postgres;

/// <summary>
/// The sharded storage cannot start with this configuration or this shard map (e.g. a shard of the map that the
/// silo cannot reach, a configured shard the map does not know); the message says why and what to do. A host prints
/// it without a stack trace and does not start.
/// </summary>
public sealed class ShardedStorageStartupException(string message, Exception? innerException = null) : Exception(message, innerException);
