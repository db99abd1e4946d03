using System.Collections.Concurrent;
using Orleans.Storage;
using Shards.Storage;
using Shards.Tests.Grains;

namespace Shards.Tests.ExactlyOnce;

/// <summary>
/// Wraps Shards' real grain storage and, for chosen grains, lets the next write commit in PostgreSQL and then loses
/// its answer (as a broken connection or an Npgsql timeout during an fsync stall does): the caller sees a driver
/// error and keeps its old ETag, although the change is stored.
/// </summary>
public sealed class LostReplyGrainStorage(IGrainStorage inner) : IGrainStorage, IRequestLogStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly ConcurrentDictionary<GrainId, bool> _armed = new();

    public IGrainStorage Inner => inner;

    /// <summary>The next write of <paramref name="grainId"/> is stored, and its caller told it failed.</summary>
    public void LoseNextReplyFor(GrainId grainId) => _armed[grainId] = true;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (!_armed.TryRemove(grainId, out _))
        {
            await inner.WriteStateAsync(stateName, grainId, grainState);
            return;
        }

        var (etag, exists) = (grainState.ETag, grainState.RecordExists);
        await inner.WriteStateAsync(stateName, grainId, grainState);
        (grainState.ETag, grainState.RecordExists) = (etag, exists); // the answer never arrived: the caller knows nothing new
        throw new SimulatedStorageOutageException($"Simulated connection loss after the commit of {stateName} of {grainId}");
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);

    public Task<LoggedRequest?> FindAsync(string stateName, GrainId grainId, Guid requestId) =>
        inner is IRequestLogStorage log ? log.FindAsync(stateName, grainId, requestId) : Task.FromResult<LoggedRequest?>(null);

    public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);
}
