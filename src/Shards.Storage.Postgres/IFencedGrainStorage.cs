using Orleans.Runtime;
using Orleans.Storage;

namespace Shards.Storage.Postgres;

/// <summary>
/// One shard's grain storage whose reads and writes the shard database itself checks against its write fence
/// (<see cref="Sharding.ShardWriteFence"/>), in the operation's own transaction. <see cref="ShardedGrainStorage"/> reads
/// and writes through it with the shard map version that routed the operation.
/// </summary>
public interface IFencedGrainStorage : IGrainStorage
{
    /// <summary>
    /// Reads like <see cref="IGrainStorage.ReadStateAsync{T}"/>, in a transaction that holds the check that the shard
    /// still accepts operations routed with <paramref name="mapVersion"/>: a resharding's close waits for it, so the read
    /// sees the shard before any of its rows moves. When the shard no longer accepts that version, the caller gets the
    /// stale-map <see cref="Contracts.Common.ShardsException"/> (StorageUnavailable) instead of "no such state".
    /// </summary>
    Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion);

    /// <summary>
    /// Writes like <see cref="IGrainStorage.WriteStateAsync{T}"/>, in a transaction that first checks that the shard
    /// still accepts writes routed with <paramref name="mapVersion"/>. When it does not, nothing is stored and the
    /// caller gets the stale-map <see cref="Contracts.Common.ShardsException"/> (StorageUnavailable): retried, the write
    /// is routed by the current map.
    /// </summary>
    Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion);
}
