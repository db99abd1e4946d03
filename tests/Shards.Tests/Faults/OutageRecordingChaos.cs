using System.Diagnostics;
using Shards.Load;

namespace Shards.Tests.Faults;

/// <summary>
/// Passes a nemesis through to the load runner and records, on the runner's own clock (<see cref="Stopwatch"/>), the
/// moments around each step the runner notes: so a test can bracket the outage the report gives between what it saw
/// happen, with no allowance for how slow the machine is.
/// </summary>
public sealed class OutageRecordingChaos(IChaos inner) : IChaos
{
    private long _struckAt;
    private long _watchedFrom;
    private long _endingAt;
    private long _endedAt;

    public bool HoldsTheRun => inner.HoldsTheRun;

    /// <summary>The shortest outage the runner can have noted: from the latest it noted the start to the earliest it noted the end.</summary>
    public TimeSpan Shortest => Stopwatch.GetElapsedTime(Volatile.Read(ref _watchedFrom), Volatile.Read(ref _endingAt));

    /// <summary>The longest: from the earliest it noted the start to the latest it noted the end.</summary>
    public TimeSpan Longest => Stopwatch.GetElapsedTime(Volatile.Read(ref _struckAt), Volatile.Read(ref _endedAt));

    /// <summary>True once the nemesis reported the end of its outage.</summary>
    public bool Ended => Volatile.Read(ref _endedAt) != 0;

    public async Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken)
    {
        var action = await inner.StrikeAsync(cancellationToken);
        Volatile.Write(ref _struckAt, Stopwatch.GetTimestamp()); // the runner notes the strike after this
        return action;
    }

    public Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _watchedFrom, Stopwatch.GetTimestamp()); // the runner noted the strike before this
        return inner.WatchAsync(
            change =>
            {
                if (change.Outage != OutagePhase.Ended)
                {
                    onChange(change);
                    return;
                }

                Volatile.Write(ref _endingAt, Stopwatch.GetTimestamp());
                onChange(change);
                Volatile.Write(ref _endedAt, Stopwatch.GetTimestamp());
            },
            cancellationToken);
    }

    public Task HealAsync() => inner.HealAsync();
}
