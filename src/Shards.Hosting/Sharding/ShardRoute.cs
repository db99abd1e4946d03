namespace Shards.Hosting.Sharding;

/// <summary>
/// Where one grain's state is. <paramref name="Shard"/> holds it; while a resharding moves it to
/// <paramref name="MovingTo"/>, it is in <paramref name="Shard"/> until moved and in <paramref name="MovingTo"/> after.
/// </summary>
public readonly record struct ShardRoute(string Shard, string? MovingTo);
