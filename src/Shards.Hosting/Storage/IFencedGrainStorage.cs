using Orleans.Runtime;
using Orleans.Storage;

namespace Shards.Hosting.Storage;

/// <summary>
/// One shard's grain storage whose writes the shard database itself checks against its write fence
/// (<see cref="Sharding.ShardWriteFence"/>), in the write's own transaction. <see cref="ShardedGrainStorage"/> writes
/// through it with the shard map version that routed the write.
/// </summary>
public interface IFencedGrainStorage : IGrainStorage
{
    /// <summary>
    /// Writes like <see cref="IGrainStorage.WriteStateAsync{T}"/>, in a transaction that first checks that the shard
    /// still accepts writes routed with <paramref name="mapVersion"/>. When it does not, nothing is stored and the
    /// caller gets the stale-map <see cref="Contracts.Common.ShardsException"/> (StorageUnavailable): retried, the write
    /// is routed by the current map.
    /// </summary>
    Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion);

    /// <summary>
    /// Reads like <see cref="IGrainStorage.ReadStateAsync{T}"/>, after checking (in the same round trip) that the shard
    /// still accepts <paramref name="mapVersion"/>: a silo on a map a resharding has closed cannot load a grain from a
    /// shard that may no longer hold it. When the shard refuses, nothing is read and the caller gets the stale-map
    /// <see cref="Contracts.Common.ShardsException"/> (StorageUnavailable).
    /// </summary>
    Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion);
}
