using System.Diagnostics;

namespace Shards.Load;

/// <summary>
/// A dependency outage a nemesis caused (PostgreSQL stopped, its primary lost), as callers saw it: the calls that
/// completed while it lasted (by completion time), the first write started after it ended that was acknowledged, and
/// the first and last failed writes from its start on. Thread-safe.
/// </summary>
internal sealed class DependencyOutageTracker(RunClock clock)
{
    private long _beganAt, _endedAt, _firstWriteAfter, _firstFailedWriteAt, _lastFailedWriteAt;
    private long _writesOk, _writesFailed, _readsOk, _readsFailed;

    public void Began(long timestamp) => Volatile.Write(ref _beganAt, timestamp);

    public void Ended(long timestamp) => Volatile.Write(ref _endedAt, timestamp);

    /// <summary>A cart or product call that completed at <paramref name="ended"/>, <paramref name="ok"/> or not.</summary>
    public void Note(bool write, long started, long ended, bool ok)
    {
        var began = Volatile.Read(ref _beganAt);
        if (began == 0 || ended < began)
        {
            return;
        }

        var over = Volatile.Read(ref _endedAt);
        if (over == 0 || ended <= over)
        {
            if (write)
            {
                Interlocked.Increment(ref ok ? ref _writesOk : ref _writesFailed);
            }
            else
            {
                Interlocked.Increment(ref ok ? ref _readsOk : ref _readsFailed);
            }
        }
        else if (write && ok && started >= over)
        {
            Interlocked.CompareExchange(ref _firstWriteAfter, ended, 0);
        }

        if (write && !ok)
        {
            Interlocked.CompareExchange(ref _firstFailedWriteAt, ended, 0);
            for (var last = Interlocked.Read(ref _lastFailedWriteAt); ended > last; last = Interlocked.Read(ref _lastFailedWriteAt))
            {
                if (Interlocked.CompareExchange(ref _lastFailedWriteAt, ended, last) == last)
                {
                    break;
                }
            }
        }
    }

    /// <summary>For the report; null when no outage began.</summary>
    public DependencyOutage? Report()
    {
        var began = Interlocked.Read(ref _beganAt);
        if (began == 0)
        {
            return null;
        }

        var over = Interlocked.Read(ref _endedAt);
        var firstWrite = Interlocked.Read(ref _firstWriteAfter);
        var lastFailed = Interlocked.Read(ref _lastFailedWriteAt);
        var firstFailed = Interlocked.Read(ref _firstFailedWriteAt);
        return new DependencyOutage(
            clock.SecondsAt(began),
            over == 0 ? null : clock.SecondsAt(over),
            new OperationCounts(_writesOk, _writesFailed),
            new OperationCounts(_readsOk, _readsFailed),
            over == 0 || firstWrite == 0 ? null : Stopwatch.GetElapsedTime(over, firstWrite).TotalSeconds,
            over == 0 || lastFailed <= over ? null : Stopwatch.GetElapsedTime(over, lastFailed).TotalSeconds)
        {
            FirstFailedWriteAtSeconds = firstFailed == 0 ? null : clock.SecondsAt(firstFailed),
            LastFailedWriteAtSeconds = lastFailed == 0 ? null : clock.SecondsAt(lastFailed),
        };
    }
}
