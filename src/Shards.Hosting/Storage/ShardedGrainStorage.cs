using Orleans.Runtime;
using Orleans.Storage;
using Shards.Contracts.Common;
using Shards.Hosting.Sharding;

namespace Shards.Hosting.Storage;

/// <summary>
/// Grain storage over several databases: each grain's state lives in the one shard the shard map routes its
/// <see cref="GrainId"/> to, and is read, written and cleared there by that shard's own Orleans ADO.NET storage
/// (no SQL of Shards' own). ETags are the shard row's versions, so conflicts are detected exactly as with one
/// database. With one shard this is plain ADO.NET storage plus the shard map's stale-map rule.
/// </summary>
public sealed class ShardedGrainStorage(string storageName, ShardMapMonitor map, IReadOnlyDictionary<string, IGrainStorage> shards)
    : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>The per-shard storages, by shard name.</summary>
    public IReadOnlyDictionary<string, IGrainStorage> Shards => shards;

    public ShardMapMonitor Map => map;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Shard(map.ShardForRead(grainId)).ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Shard(map.ShardForWrite(grainId)).WriteStateAsync(stateName, grainId, grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Shard(map.ShardForWrite(grainId, "clear")).ClearStateAsync(stateName, grainId, grainState);

    /// <summary>
    /// The map loads before any storage initialises (it may refuse the silo's start); every shard's storage then
    /// initialises itself as usual (it loads its queries from its own database).
    /// </summary>
    public void Participate(ISiloLifecycle lifecycle)
    {
        lifecycle.Subscribe($"ShardMap-{storageName}", ServiceLifecycleStage.RuntimeStorageServices, map.StartAsync, map.StopAsync);
        foreach (var shard in shards.Values)
        {
            (shard as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);
        }
    }

    private IGrainStorage Shard(string name) => shards.TryGetValue(name, out var storage)
        ? storage
        : throw new ShardsException(ShardsErrorCode.StorageUnavailable, $"Storage '{storageName}' has no shard '{name}' on this silo. Nothing changed.");
}
