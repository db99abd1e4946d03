using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Shards.Tests.Infrastructure;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also tells when the code under test starts waiting on it (each timer it
/// creates, e.g. by <c>Task.Delay(delay, time, token)</c>). A polling loop waits after each pass: so
/// <see cref="NextWaitAsync"/> returning is the signal that a pass has finished, with no sleep and no guess.
/// </summary>
public sealed class WaitSignallingTimeProvider : FakeTimeProvider
{
    private static readonly TimeSpan s_hang = TimeSpan.FromSeconds(10);
    private readonly Channel<TimeSpan> _waits = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _waits.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>The next wait the code under test started (in order, none missed); how long it waits.</summary>
    public async Task<TimeSpan> NextWaitAsync() => await _waits.Reader.ReadAsync().AsTask().WaitAsync(s_hang);

    /// <summary>True when the code under test started a wait that <see cref="NextWaitAsync"/> has not returned yet.</summary>
    public bool HasPendingWait => _waits.Reader.Count > 0;

    /// <summary>Ends the current wait of the code under test (moves the clock by <paramref name="wait"/>) and returns once it waits again.</summary>
    public async Task<TimeSpan> PassAsync(TimeSpan wait)
    {
        Advance(wait);
        return await NextWaitAsync();
    }
}
