namespace Shards.Storage.Postgres.Sharding;

/// <summary>
/// Where one grain's state is. <paramref name="Shard"/> holds it; while a resharding moves it to
/// <paramref name="MovingTo"/>, it is in <paramref name="Shard"/> until moved and in <paramref name="MovingTo"/> after.
/// <paramref name="MapVersion"/> is the shard map version that routed it: a read or write carries it to the shard
/// database, whose write fence refuses it once a resharding closed that shard to older maps (<see cref="ShardWriteFence"/>).
/// </summary>
public readonly record struct ShardRoute(string Shard, string? MovingTo, int MapVersion);
