using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Contracts.Common;
using Shards.Storage;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Storage.Postgres;

/// <summary>
/// Grain storage over several databases: each grain's state lives in the one shard the shard map routes its
/// <see cref="GrainId"/> to, and is read, written and cleared there by that shard's own Orleans ADO.NET storage
/// (no SQL of Shards' own). ETags are the shard row's versions, so conflicts are detected exactly as with one
/// database. With one shard this is plain ADO.NET storage plus the shard map's stale-map rule.
/// While a resharding moves a grain (a moving map), its row is in the old shard until the coordinator moved it (with
/// its version), then in the new one: the old shard is asked first and is the owner while it holds the row
/// (docs/sharding.md, "Online resharding"). Every read and write carries the map version that routed it to its shard,
/// whose database checks it against its write fence in the operation's own transaction (<see cref="IFencedGrainStorage"/>);
/// when the shard refuses it (a resharding closed it to that version), the silo reads the current map at once.
/// </summary>
public sealed class ShardedGrainStorage(
    string storageName, ShardMapMonitor map, IReadOnlyDictionary<string, IGrainStorage> shards, Func<ShardConnection, IGrainStorage>? reach = null)
    : IGrainStorage, IRequestLogStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly ConcurrentDictionary<string, Lazy<Task<IGrainStorage>>> _reached = new(StringComparer.Ordinal);

    /// <summary>The per-shard storages of the configured shards, by shard name.</summary>
    public IReadOnlyDictionary<string, IGrainStorage> Shards => shards;

    public ShardMapMonitor Map => map;

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var route = map.RouteRead(grainId);
        await RefreshedOnRefusalAsync(async () =>
        {
            await ReadAsync(await ShardAsync(route.Shard), stateName, grainId, grainState, route.MapVersion);
            if (route.MovingTo is { } target && grainState.ETag is null)
            {
                // No row in the old shard: either the grain is new or the resharding moved it already.
                await ReadAsync(await ShardAsync(target), stateName, grainId, grainState, route.MapVersion);
            }
        });
    }

    /// <summary>
    /// The logged request in the grain's shard: in the old shard while a resharding has not moved the grain's rows,
    /// else in the new one (the request log moves with the state).
    /// </summary>
    public async Task<LoggedRequest?> FindAsync(string stateName, GrainId grainId, Guid requestId)
    {
        var route = map.RouteRead(grainId);
        var found = await FindAsync(await ShardAsync(route.Shard), stateName, grainId, requestId);
        if (found is null && route.MovingTo is { } target)
        {
            found = await FindAsync(await ShardAsync(target), stateName, grainId, requestId);
        }

        return found;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var route = map.RouteWrite(grainId);
        await RefreshedOnRefusalAsync(async () =>
        {
            if (route.MovingTo is not { } target)
            {
                await WriteAsync(await ShardAsync(route.Shard), stateName, grainId, grainState, route.MapVersion);
            }
            else if (grainState.ETag is null)
            {
                await CreateMovingAsync(stateName, grainId, grainState, route, target);
            }
            else
            {
                await WithMovedFallbackAsync(
                    stateName, grainId, grainState, route, target, (storage, state) => WriteAsync(storage, stateName, grainId, state, route.MapVersion));
            }
        });
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var route = map.RouteWrite(grainId, "clear");
        if (route.MovingTo is not { } target)
        {
            await (await ShardAsync(route.Shard)).ClearStateAsync(stateName, grainId, grainState);
            return;
        }

        if (!grainState.RecordExists)
        {
            // Orleans' provider reads before clearing a state it does not know to exist; read from where the row is.
            await ReadStateAsync(stateName, grainId, grainState);
            if (!grainState.RecordExists)
            {
                return;
            }
        }

        await WithMovedFallbackAsync(stateName, grainId, grainState, route, target, (storage, state) => storage.ClearStateAsync(stateName, grainId, state));
    }

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

    /// <summary>
    /// A write or clear of a moving grain with an ETag: in the old shard while it holds the row (a version conflict
    /// there is a real conflict), else in the new shard, where the coordinator put the row with the same version.
    /// A row being moved is locked by the coordinator: the old shard's write waits, then finds it gone.
    /// </summary>
    private async Task WithMovedFallbackAsync<T>(
        string stateName, GrainId grainId, IGrainState<T> grainState, ShardRoute route, string to, Func<IGrainStorage, IGrainState<T>, Task> operation)
    {
        var old = await ShardAsync(route.Shard);
        try
        {
            await operation(old, grainState);
            return;
        }
        catch (InconsistentStateException)
        {
            var probe = new GrainState<T>();
            await ReadAsync(old, stateName, grainId, probe, route.MapVersion);
            if (probe.ETag is not null)
            {
                throw;
            }
        }

        await operation(await ShardAsync(to), grainState);
    }

    /// <summary>
    /// A new grain of a moving key (no row in either shard when it read). Until the resharding closes the old shard, it is
    /// created there, routed as the map before the moving one routes it (the moving map's version - 1): a silo still on
    /// that map reads only the old shard, and must see it there; the coordinator moves it after the close. Once the old
    /// shard is closed, it refuses that version; no silo can create the key there any more, so the grain is created in
    /// its new shard, unless the old shard holds it already (a silo on the old map created it before the close: a
    /// version conflict, as with one database). A row is therefore never created in the new shard while a silo on the old
    /// map could still create or read the key in the old one.
    /// </summary>
    private async Task CreateMovingAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, ShardRoute route, string target)
    {
        var old = await ShardAsync(route.Shard);
        try
        {
            await WriteAsync(old, stateName, grainId, grainState, route.MapVersion - 1);
            return;
        }
        catch (ShardsException closed) when (ShardWriteFence.AcceptedVersionOf(closed) <= route.MapVersion)
        {
            // The resharding closed the old shard: the key is created in its new shard.
        }

        var probe = new GrainState<T>();
        await ReadAsync(old, stateName, grainId, probe, route.MapVersion);
        if (probe.ETag is not null)
        {
            throw new InconsistentStateException(
                $"Version conflict (WriteState): {grainId}'s {stateName} state was created in shard '{route.Shard}' (a silo on the shard map before " +
                $"version {route.MapVersion} created it) since this grain read it. ETag=(none), stored ETag={probe.ETag}.");
        }

        await WriteAsync(await ShardAsync(target), stateName, grainId, grainState, route.MapVersion);
    }

    /// <summary>
    /// Runs a routed read or write; when a shard refused it because a resharding closed the shard to its map version, reads
    /// the current map before the refusal goes to the caller, whose retry is then routed by it.
    /// </summary>
    private async Task RefreshedOnRefusalAsync(Func<Task> operation)
    {
        try
        {
            await operation();
        }
        catch (ShardsException refused) when (ShardWriteFence.AcceptedVersionOf(refused) is { } accepted)
        {
            await map.RefreshAfterRefusalAsync(accepted);
            throw;
        }
    }

    /// <summary>
    /// A read in one shard, carrying the map version that routed it: the shard database refuses it (stale map) once a
    /// resharding closed that shard to older maps, rather than answer from a shard the state may have left.
    /// </summary>
    private static Task ReadAsync<T>(IGrainStorage shard, string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion) =>
        shard is IFencedGrainStorage fenced
            ? fenced.ReadStateAsync(stateName, grainId, grainState, mapVersion)
            : shard.ReadStateAsync(stateName, grainId, grainState);

    /// <summary>
    /// A write in one shard, carrying the map version that routed it: the shard database refuses it (stale map, nothing
    /// stored) once a resharding closed that shard to older maps, however long the write took to get there.
    /// </summary>
    private static Task WriteAsync<T>(IGrainStorage shard, string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion) =>
        shard is IFencedGrainStorage fenced
            ? fenced.WriteStateAsync(stateName, grainId, grainState, mapVersion)
            : shard.WriteStateAsync(stateName, grainId, grainState);

    private static Task<LoggedRequest?> FindAsync(IGrainStorage shard, string stateName, GrainId grainId, Guid requestId) =>
        shard is IRequestLogStorage log ? log.FindAsync(stateName, grainId, requestId) : Task.FromResult<LoggedRequest?>(null);

    private ValueTask<IGrainStorage> ShardAsync(string name)
    {
        if (shards.TryGetValue(name, out var storage))
        {
            return ValueTask.FromResult(storage);
        }

        if (reach is not null && map.ConnectionFor(name) is { } connection)
        {
            var lazy = _reached.GetOrAdd(name, _ => new Lazy<Task<IGrainStorage>>(() => StartReachedAsync(connection)));
            return new ValueTask<IGrainStorage>(lazy.Value);
        }

        throw new ShardsException(ShardsErrorCode.StorageUnavailable, $"Storage '{storageName}' has no shard '{name}' on this silo. Nothing changed.");
    }

    /// <summary>A storage for a shard the silo reaches without configuration, initialised as the silo's start would.</summary>
    private async Task<IGrainStorage> StartReachedAsync(ShardConnection connection)
    {
        var storage = reach!(connection);
        if (storage is ILifecycleParticipant<ISiloLifecycle> participant)
        {
            var lifecycle = new SiloLifecycleSubject(NullLogger<SiloLifecycleSubject>.Instance);
            participant.Participate(lifecycle);
            await lifecycle.OnStart(CancellationToken.None);
        }

        return storage;
    }
}
