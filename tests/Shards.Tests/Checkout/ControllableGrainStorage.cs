using System.Collections.Concurrent;
using System.Threading.Channels;
using Orleans.Storage;
using Shards.Tests.Grains;

namespace Shards.Tests.Checkout;

/// <summary>
/// Wraps a real grain storage and, per grain, lets a test hold each write until it releases it (to look at the grain
/// while a write is pending), make writes fail without storing anything, or store the next write and lose its answer
/// (the commit reached the database, the reply did not: an unknown outcome, the grain keeps its old etag).
/// </summary>
public sealed class ControllableGrainStorage(IGrainStorage inner) : IGrainStorage
{
    private readonly ConcurrentDictionary<GrainId, Channel<HeldWrite>> _held = new();
    private readonly ConcurrentDictionary<GrainId, bool> _failing = new();
    private readonly ConcurrentDictionary<GrainId, bool> _losingNextAnswer = new();

    public IGrainStorage Inner => inner;

    /// <summary>From now on every write of <paramref name="grainId"/> waits until the test releases it.</summary>
    public void HoldWrites(GrainId grainId) => _held.TryAdd(grainId, Channel.CreateUnbounded<HeldWrite>());

    /// <summary>The next write of <paramref name="grainId"/> that is being held (after <see cref="HoldWrites"/>).</summary>
    public async Task<HeldWrite> NextHeldWriteAsync(GrainId grainId, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        return await _held[grainId].Reader.ReadAsync(cancel.Token);
    }

    public void FailWrites(GrainId grainId) => _failing[grainId] = true;

    public void LoseAnswerOfNextWrite(GrainId grainId) => _losingNextAnswer[grainId] = true;

    /// <summary>Writes of <paramref name="grainId"/> go through again (writes already held stay held until released).</summary>
    public void Heal(GrainId grainId)
    {
        _failing.TryRemove(grainId, out _);
        _losingNextAnswer.TryRemove(grainId, out _);
        if (_held.TryRemove(grainId, out var held))
        {
            held.Writer.TryComplete();
        }
    }

    /// <summary><see cref="Heal"/>, and the writes held but not yet taken by the test go through as well.</summary>
    public void HealAndReleaseHeld(GrainId grainId)
    {
        var held = _held.GetValueOrDefault(grainId);
        Heal(grainId);
        while (held is not null && held.Reader.TryRead(out var write))
        {
            write.Release();
        }
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_held.TryGetValue(grainId, out var held))
        {
            var write = new HeldWrite(grainState.State!);
            if (held.Writer.TryWrite(write))
            {
                await write.Released;
            }
        }

        if (_failing.ContainsKey(grainId))
        {
            throw new SimulatedStorageOutageException($"Simulated outage writing {stateName} of {grainId}");
        }

        if (_losingNextAnswer.TryRemove(grainId, out _))
        {
            var (etag, exists) = (grainState.ETag, grainState.RecordExists);
            await inner.WriteStateAsync(stateName, grainId, grainState);
            (grainState.ETag, grainState.RecordExists) = (etag, exists);
            throw new SimulatedStorageOutageException($"Simulated lost answer: {stateName} of {grainId} was stored, but the reply never came");
        }

        await inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);
}

/// <summary>A write the storage is holding: <see cref="State"/> is what the grain asked to store.</summary>
public sealed class HeldWrite(object state)
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public object State { get; } = state;

    internal Task Released => _released.Task;

    public void Release() => _released.TrySetResult();
}
