using System.Collections.Concurrent;
using Orleans.Storage;

namespace Shards.Tests.Grains;

/// <summary>
/// Wraps a real grain storage and makes writes fail for chosen grains, the way PostgreSQL does when it is down.
/// The exception it throws has no Orleans codec, like Npgsql's: if a grain let it escape, the caller would not get
/// a <c>ShardsException</c>.
/// </summary>
public sealed class FaultInjectingGrainStorage(IGrainStorage inner) : IGrainStorage
{
    private readonly ConcurrentDictionary<GrainId, bool> _failingWrites = new();

    public IGrainStorage Inner => inner;

    public void FailWritesFor(GrainId grainId) => _failingWrites[grainId] = true;

    public void Heal(GrainId grainId) => _failingWrites.TryRemove(grainId, out _);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _failingWrites.ContainsKey(grainId)
            ? Task.FromException(new SimulatedStorageOutageException($"Simulated outage writing {stateName} of {grainId}"))
            : inner.WriteStateAsync(stateName, grainId, grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);
}

/// <summary>Stands in for a database driver's exception: deliberately not serialisable by Orleans.</summary>
public sealed class SimulatedStorageOutageException : Exception
{
    public SimulatedStorageOutageException()
    {
    }

    public SimulatedStorageOutageException(string message)
        : base(message)
    {
    }

    public SimulatedStorageOutageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
