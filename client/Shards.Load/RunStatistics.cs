using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Shards.History;

namespace Shards.Load;

/// <summary>
/// What the run's calls came to: successful and failed calls per kind (cart reads and writes, product reads and
/// writes), the time spent waiting for answers, the calls in flight, the calls per second, the kinds of failure, the
/// longest call and the transactions per silo; each cart add also in the <see cref="WriteLedger"/>. Produces the
/// progress tick and the counts of the report. Thread-safe.
/// </summary>
internal sealed class RunStatistics(RunClock clock, CartLocations locations, LoadWorkload workload, WriteLedger ledger)
{
    /// <summary>Kinds of failure told apart; later kinds count as <see cref="OtherFailures"/>.</summary>
    private const int MaxFailureKinds = 20;
    private const string OtherFailures = "other";
    private const string NoAnswer = "NoAnswer";
    private const string NoAnswerMessage = "no answer by the end of the run (+10 s; outcome unknown)";

    private readonly LatencyRecorder _latency = new();
    private readonly PerSecondTimeline _timeline = new();
    private readonly ConcurrentDictionary<string, StrongBox<long>> _perSilo = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FailureTally> _failures = new(StringComparer.Ordinal);
    private readonly object _longestLock = new();
    private (long Ticks, long Started, LoadCall Call) _longest;
    private long _readsOk, _readsFailed, _writesOk, _writesFailed, _busyTicks, _inFlight;
    private long _productReadsOk, _productReadsFailed, _productWritesOk, _productWritesFailed;
    private long _lastCompletedAt;

    /// <summary>When the last call completed (a <see cref="Stopwatch"/> timestamp; 0 before the first).</summary>
    public long LastCompletedAt => Interlocked.Read(ref _lastCompletedAt);

    /// <summary>A call was sent: it is in flight until <see cref="Answered"/> or <see cref="Abandoned"/>.</summary>
    public void Sent() => Interlocked.Increment(ref _inFlight);

    public void Answered() => Interlocked.Decrement(ref _inFlight);

    /// <summary>A call that completed at <paramref name="ended"/>: counted by kind, by second and (a cart's) by silo.</summary>
    public void Completed(LoadCall call, long started, long ended, Exception? failure, OperationOutcome outcome)
    {
        Interlocked.Add(ref _busyTicks, ended - started);
        for (var last = Interlocked.Read(ref _lastCompletedAt); ended > last; last = Interlocked.Read(ref _lastCompletedAt))
        {
            if (Interlocked.CompareExchange(ref _lastCompletedAt, ended, last) == last)
            {
                break;
            }
        }

        var second = clock.SecondOf(ended);
        if (failure is not null)
        {
            Failed(call, second, FailureText.KindOf(failure), failure.Message, outcome);
            return;
        }

        _latency.Record(Stopwatch.GetElapsedTime(started, ended));
        NoteLongest(call, started, ended);
        if (call.Product > 0)
        {
            Interlocked.Increment(ref call.Write ? ref _productWritesOk : ref _productReadsOk);
        }
        else if (call.Write)
        {
            ledger.Acknowledged(workload.Cell(call.Cart, call.Slot));
            Interlocked.Increment(ref _writesOk);
        }
        else
        {
            Interlocked.Increment(ref _readsOk);
        }

        _timeline.Add(second, ok: 1, failed: 0);
        if (call.Product == 0)
        {
            Interlocked.Increment(ref _perSilo.GetOrAdd(locations.SiloOrUnknown(call.Cart), _ => new StrongBox<long>()).Value);
        }
    }

    /// <summary>
    /// A call still in flight when the run gave up waiting at <paramref name="ended"/>: failed (a write of unknown
    /// outcome), in the run's last second, busy until then.
    /// </summary>
    public void Abandoned(LoadCall call, long started, long ended)
    {
        Interlocked.Decrement(ref _inFlight);
        Interlocked.Add(ref _busyTicks, Math.Max(0, ended - started));
        Failed(call, clock.SecondOf(ended), NoAnswer, NoAnswerMessage, OperationOutcome.Unknown);
    }

    /// <summary>Tells <paramref name="observer"/> the state of the run once a second, until cancelled.</summary>
    public async Task TickAsync(ILoadObserver observer, double? durationSeconds, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var last = (At: Stopwatch.GetTimestamp(), Ok: 0L);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var now = Stopwatch.GetTimestamp();
                var ok = Interlocked.Read(ref _readsOk) + Interlocked.Read(ref _writesOk) + Interlocked.Read(ref _productReadsOk) + Interlocked.Read(ref _productWritesOk);
                var failed = Interlocked.Read(ref _readsFailed) + Interlocked.Read(ref _writesFailed) +
                    Interlocked.Read(ref _productReadsFailed) + Interlocked.Read(ref _productWritesFailed);
                var rate = (ok - last.Ok) / Stopwatch.GetElapsedTime(last.At, now).TotalSeconds;
                observer.Tick(new LoadTick(clock.SecondsAt(now), durationSeconds, ok, failed, rate, Interlocked.Read(ref _inFlight)));
                last = (now, ok);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    /// <summary>The report of a run that lasted <paramref name="elapsed"/>, with what the other parts of the run found.</summary>
    public LoadReport Report(
        string target, LoadSettings settings, TimeSpan elapsed, bool stoppedEarly, ChaosReport? chaos, WriteCheck check, HistoryCheck history)
    {
        var seconds = Math.Max(elapsed.TotalSeconds, 1e-3);
        var ok = _readsOk + _writesOk + _productReadsOk + _productWritesOk;
        var failed = _readsFailed + _writesFailed + _productReadsFailed + _productWritesFailed;
        var perSilo = _perSilo.OrderBy(s => s.Key, StringComparer.Ordinal)
            .Select(s => new SiloThroughput(s.Key, s.Value.Value, ok == 0 ? 0 : 100.0 * s.Value.Value / ok, s.Value.Value / seconds))
            .ToList();
        var failures = _failures.OrderByDescending(f => f.Value.Count).ThenBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => new FailureKind(f.Key, f.Value.Count, f.Value.Example))
            .ToList();
        return new LoadReport(
            target,
            settings,
            ok,
            ok + failed == 0 ? 0 : 100.0 * ok / (ok + failed),
            elapsed.TotalSeconds,
            _latency.Summarise(),
            ok / seconds,
            _busyTicks / (double)Stopwatch.Frequency / seconds,
            ok,
            failed,
            new OperationCounts(_readsOk, _readsFailed),
            new OperationCounts(_writesOk, _writesFailed),
            stoppedEarly,
            perSilo,
            failures,
            chaos,
            check,
            _timeline.Samples(),
            Longest(),
            new OperationCounts(_productReadsOk, _productReadsFailed),
            new OperationCounts(_productWritesOk, _productWritesFailed),
            history);
    }

    /// <summary>A failed call: counted by kind; a cart add of unknown outcome may have landed (the write check allows it one unit).</summary>
    private void Failed(LoadCall call, int second, string kind, string message, OperationOutcome outcome)
    {
        if (call.Product > 0)
        {
            Interlocked.Increment(ref call.Write ? ref _productWritesFailed : ref _productReadsFailed);
        }
        else if (call.Write)
        {
            if (outcome == OperationOutcome.Unknown)
            {
                ledger.Failed(workload.Cell(call.Cart, call.Slot));
            }

            Interlocked.Increment(ref _writesFailed);
        }
        else
        {
            Interlocked.Increment(ref _readsFailed);
        }

        _timeline.Add(second, ok: 0, failed: 1);
        if (!_failures.ContainsKey(kind) && _failures.Count >= MaxFailureKinds)
        {
            kind = OtherFailures;
        }

        _failures.GetOrAdd(kind, _ => new FailureTally(FailureText.OneLine(message))).Increment();
    }

    private void NoteLongest(LoadCall call, long started, long ended)
    {
        if (ended - started <= Volatile.Read(ref _longest.Ticks))
        {
            return;
        }

        lock (_longestLock)
        {
            if (ended - started > _longest.Ticks)
            {
                _longest = (ended - started, started, call);
            }
        }
    }

    private LongestCall? Longest()
    {
        lock (_longestLock)
        {
            var call = _longest.Call;
            return _longest.Ticks == 0
                ? null
                : new LongestCall(
                    _longest.Ticks * 1000.0 / Stopwatch.Frequency,
                    clock.SecondsAt(_longest.Started),
                    (call.Product > 0 ? "product " : string.Empty) + (call.Write ? "write" : "read"),
                    call.Product > 0 ? LoadWorkload.Sku(call.Product) : LoadWorkload.CartId(call.Cart),
                    call.Product > 0 ? CartLocations.UnknownSilo : locations.SiloOrUnknown(call.Cart));
        }
    }

    /// <summary>Failed calls of one kind, with the message of the first as an example.</summary>
    private sealed class FailureTally(string example)
    {
        private long _count;

        public string Example { get; } = example;

        public long Count => Interlocked.Read(ref _count);

        public void Increment() => Interlocked.Increment(ref _count);
    }
}
