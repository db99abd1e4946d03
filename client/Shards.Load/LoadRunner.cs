using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Shards.Contracts.Common;
using Shards.History;

namespace Shards.Load;

/// <summary>
/// Runs a load: prepares the data (products upserted, every cart's quantities and silo read), lets N clients call
/// the target one request after the other until the time or the request count is up (or <c>stop</c> fires), strikes
/// with each nemesis at its time, then reads back every written cart and every product. Every call of the run and of
/// the read-back is recorded in a history (<see cref="HistoryRecorder"/>) that <see cref="HistoryChecker"/> checks at
/// the end; the lost/duplicated write check adds up the carts as before. A call that throws is a failed transaction:
/// the runner never retries the workload's calls.
/// </summary>
public sealed class LoadRunner
{
    private const int PrepareParallelism = 32;
    private static readonly TimeSpan s_prepareBudget = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_readBackBudget = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_readBackBudgetAfterStop = TimeSpan.FromSeconds(25);
    private static readonly TimeSpan s_drain = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_drainAfterStop = TimeSpan.FromSeconds(5);

    private readonly ILoadTarget _target;
    private readonly LoadOptions _options;
    private readonly ILoadObserver _observer;
    private readonly LoadWorkload _workload;
    private readonly WorkloadCalls _calls;
    private readonly WriteLedger _ledger;
    private readonly int[] _initial;
    private readonly RunClock _clock = new();
    private readonly CartLocations _locations;
    private readonly KillRecoveryTracker _recovery;
    private readonly DependencyOutageTracker _outage;
    private readonly RunStatistics _statistics;
    private readonly NemesisSchedule _nemeses;
    private CancellationToken _abort;

    /// <summary>A run with at most one nemesis, <paramref name="chaos"/> (the one of <see cref="LoadOptions.Chaos"/>).</summary>
    public LoadRunner(ILoadTarget target, LoadOptions options, IChaos? chaos = null, ILoadObserver? observer = null)
        : this(target, options, chaos is null || options.Chaos.Count == 0 ? new Dictionary<ChaosMode, IChaos>() : new Dictionary<ChaosMode, IChaos> { [options.Chaos[0]] = chaos }, observer)
    {
    }

    /// <summary>
    /// A run with the nemeses of <see cref="LoadOptions.Chaos"/>: each from <paramref name="nemeses"/>, except
    /// <see cref="ChaosMode.Hot"/>, which the runner does itself when it is not given. A nemesis of the options that is
    /// not given does not strike.
    /// </summary>
    public LoadRunner(ILoadTarget target, LoadOptions options, IReadOnlyDictionary<ChaosMode, IChaos> nemeses, ILoadObserver? observer = null)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        _target = target;
        _options = options;
        _observer = observer ?? ILoadObserver.None;
        _workload = new LoadWorkload(options.Keys);
        _calls = new WorkloadCalls(target, options, _workload);
        _ledger = new WriteLedger(_workload.Cells);
        _initial = new int[_workload.Cells];
        _locations = new CartLocations(target, options.Keys);
        _recovery = new KillRecoveryTracker(_locations, options.Keys);
        _outage = new DependencyOutageTracker(_clock);
        _statistics = new RunStatistics(_clock, _locations, _workload, _ledger);
        _nemeses = new NemesisSchedule(options, nemeses, _calls.SetHot, _clock, _locations, _recovery, _outage, _observer);
    }

    /// <summary>How long to wait, after the end of the run, for calls still in flight (shorter after Ctrl+C).</summary>
    internal TimeSpan GiveUpAfter { get; init; } = s_drain;

    public async Task<LoadReport> RunAsync(CancellationToken stop)
    {
        // Cancelled when the run returns: calls it gave up on, and background relocations, may still be running.
        using var abort = new CancellationTokenSource();
        _abort = abort.Token;
        try
        {
            await PrepareAsync(stop);
            var (elapsed, stoppedEarly) = await RunClientsAsync(stop);
            await _nemeses.HealAsync();
            var budget = stoppedEarly ? s_readBackBudgetAfterStop : s_readBackBudget;
            var check = await ReadBackAsync(budget);
            await ReadBackProductsAsync(budget);
            _observer.Phase("Checking the history ...");
            return Report(elapsed, stoppedEarly, check, HistoryChecker.Check(_calls.Declared(_initial)));
        }
        finally
        {
            await _nemeses.HealAsync();
            await abort.CancelAsync();
        }
    }

    /// <summary>Products upserted; every cart's starting quantities (over-full lines emptied) and silo.</summary>
    private async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(s_prepareBudget.TotalSeconds * Stopwatch.Frequency);
        _observer.Phase($"Preparing: upserting {LoadWorkload.Products} products, reading and locating {_workload.Keys} carts ...");
        // Each attempt writes a value of its own and is in the history: one whose answer was lost may still land later.
        await Parallel.ForEachAsync(Enumerable.Range(1, LoadWorkload.Products), Bounded(cancellationToken), async (product, ct) =>
            await RetryAsync(
                async () =>
                {
                    await _calls.UpsertProductAsync(Operation.Prepare, product, ct);
                    return true;
                },
                deadline,
                ct));

        var done = 0;
        var emptied = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, _workload.Keys), Bounded(cancellationToken), async (cart, ct) =>
        {
            var cartId = LoadWorkload.CartId(cart);
            var quantities = _workload.SlotQuantities(cart, await RetryAsync(() => _target.ReadCartAsync(cartId, ct), deadline, ct));
            if (quantities.Any(q => q > LoadWorkload.ResetLineAbove))
            {
                await RetryAsync(
                    async () =>
                    {
                        await _target.ClearCartAsync(cartId, ct);
                        return true;
                    },
                    deadline,
                    ct);
                quantities = _workload.SlotQuantities(cart, await RetryAsync(() => _target.ReadCartAsync(cartId, ct), deadline, ct));
                Interlocked.Increment(ref emptied);
            }

            quantities.CopyTo(_initial, _workload.Cell(cart, 0));
            await _locations.LocateAsync(cart, () => RetryAsync(() => _target.LocateCartAsync(cartId, ct), deadline, ct));

            _observer.Preparing("carts", Interlocked.Increment(ref done), _workload.Keys);
        });
        if (emptied > 0)
        {
            _observer.Phase($"Emptied {emptied} cart(s) with a line above {LoadWorkload.ResetLineAbove} units (a line holds at most 10000).");
        }
    }

    /// <summary>The clients, the chaos and the progress ticks; returns when every client stopped or was given up on.</summary>
    private async Task<(TimeSpan Elapsed, bool StoppedEarly)> RunClientsAsync(CancellationToken stop)
    {
        _observer.Phase(
            $"Running {_options.Concurrency} clients " +
            (_options.Duration is { } d ? $"for {LoadDuration.Format(d)}" : $"for {_options.RequestsPerClient} requests each") +
            $", {_options.WritePercent} % writes over {_workload.Keys} carts ({_options.ProductPercent} % of the requests on products)" +
            _nemeses.Plan() +
            " (Ctrl+C stops early and still reports)");
        _calls.Recorder.Origin = _clock.Begin();
        using var run = CancellationTokenSource.CreateLinkedTokenSource(stop);
        // Ctrl+C ends the nemeses at once too: what they stopped is resumed before the run waits for the calls in flight.
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var slots = Enumerable.Range(0, _options.Concurrency).Select(_ => new ClientSlot()).ToArray();
        var clients = Task.WhenAll(slots.Select((slot, client) => Task.Run(() => ClientAsync(client, slot, run.Token), CancellationToken.None)));
        var chaos = _nemeses.StrikeAsync(run.Token, watching.Token);
        var ticks = _statistics.TickAsync(_observer, _options.Duration?.TotalSeconds, watching.Token);
        if (_options.Duration is { } duration)
        {
            _ = EndAfterAsync(duration, run);
        }
        try
        {
            await clients.WaitAsync(run.Token);
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            // Time is up, or Ctrl+C: no client starts another request; wait a little for those in flight.
        }

        var ended = Stopwatch.GetTimestamp();
        var stoppedEarly = stop.IsCancellationRequested;
        try
        {
            await clients.WaitAsync(stoppedEarly && GiveUpAfter > s_drainAfterStop ? s_drainAfterStop : GiveUpAfter, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            // Calls still without an answer are counted as failed below.
        }

        // As siege's, the elapsed time ends with the last transaction; waiting for calls that never answer is not part of it.
        var elapsed = _clock.ElapsedAt(Math.Max(ended, _statistics.LastCompletedAt));
        GiveUp(slots, ended);
        await run.CancelAsync();
        await watching.CancelAsync();
        await Task.WhenAll(chaos, ticks);
        return (elapsed, stoppedEarly);
    }

    /// <summary>
    /// Ends the run when its time is up, or later while a nemesis that holds the run (a resharding) is still at work:
    /// that damage must happen under load. Ctrl+C still ends it at once (the linked stop token).
    /// </summary>
    private async Task EndAfterAsync(TimeSpan duration, CancellationTokenSource run)
    {
        try
        {
            await Task.Delay(duration, run.Token);
            await _nemeses.HoldTheRunAsync(run.Token);
            await run.CancelAsync();
        }
        catch (OperationCanceledException)
        {
            // Stopped early.
        }
        catch (ObjectDisposedException)
        {
            // The run is over already.
        }
    }

    /// <summary>One siege client: a request, its answer, the next request; until the run ends.</summary>
    private async Task ClientAsync(int client, ClientSlot slot, CancellationToken run)
    {
        for (var n = 0; _options.RequestsPerClient is not { } reps || n < reps; n++)
        {
            if (run.IsCancellationRequested)
            {
                return;
            }

            var call = _calls.Next();
            var started = Stopwatch.GetTimestamp();
            slot.Begin(call, started);
            _statistics.Sent();
            var (failure, history) = await _calls.CallAsync(client, call, _abort);
            if (!slot.TryFinish())
            {
                return; // the run gave up on this call and counted it as failed (its history stays of unknown outcome)
            }

            _statistics.Answered();
            var outcome = failure is null ? OperationOutcome.Ok : LoadOutcomes.Classify(failure);
            history.Complete(_calls.Recorder, outcome, failure);
            Completed(call, started, Stopwatch.GetTimestamp(), failure, outcome);
        }
    }

    /// <summary>A call the run counts: in the statistics, the kill recovery and the outage; a cart relocated when the call suggests it moved.</summary>
    private void Completed(LoadCall call, long started, long ended, Exception? failure, OperationOutcome outcome)
    {
        _statistics.Completed(call, started, ended, failure, outcome);
        if (failure is null && call.Product == 0)
        {
            _recovery.Note(call.Cart, started, ended);
        }

        _outage.Note(call.Write, started, ended, failure is null);

        // A failed call, or a location older than the last change the chaos made: ask the cart where it lives now.
        if (call.Product == 0 && (failure is not null || _locations.IsStale(call.Cart)))
        {
            _locations.Relocate(call.Cart, _abort);
        }
    }

    /// <summary>
    /// Calls still in flight when the run gave up waiting: failed (writes of unknown outcome), in the run's last second,
    /// busy until the run <paramref name="ended"/>.
    /// </summary>
    private void GiveUp(IEnumerable<ClientSlot> slots, long ended)
    {
        foreach (var slot in slots)
        {
            if (slot.TryAbandon())
            {
                _statistics.Abandoned(slot.Call, slot.Started, ended);
            }
        }
    }

    /// <summary>Reads back every cart that had a write, retrying while the cluster recovers, and checks every line.</summary>
    private async Task<WriteCheck> ReadBackAsync(TimeSpan budget)
    {
        var carts = Enumerable.Range(0, _workload.Keys)
            .Where(cart => Enumerable.Range(0, _workload.SkusPerCart).Any(slot => _ledger.Touched(_workload.Cell(cart, slot))))
            .ToList();
        _observer.Phase($"Reading back {carts.Count} carts with writes (retrying for up to {budget.TotalSeconds:0} s while the cluster recovers) ...");
        var deadline = Stopwatch.GetTimestamp() + (long)(budget.TotalSeconds * Stopwatch.Frequency);
        var finals = new ConcurrentDictionary<int, int[]>();
        using var giveUp = new CancellationTokenSource(budget + TimeSpan.FromSeconds(5));
        var done = 0;
        try
        {
            await Parallel.ForEachAsync(carts, Bounded(giveUp.Token), async (cart, ct) =>
            {
                try
                {
                    var lines = await RetryAsync(() => ReadBackCartAsync(cart, ct), deadline, ct);
                    finals[cart] = _workload.SlotQuantities(cart, lines);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || giveUp.IsCancellationRequested)
                {
                    // Unreadable in time: reported as not checked.
                }

                _observer.Preparing("read back", Interlocked.Increment(ref done), carts.Count);
            });
        }
        catch (OperationCanceledException)
        {
            // The budget is spent: whatever was not read is not checked.
        }

        var cells = new List<WriteCell>();
        long acknowledgedUnchecked = 0, failedUnchecked = 0;
        foreach (var cart in carts)
        {
            for (var slot = 0; slot < _workload.SkusPerCart; slot++)
            {
                var cell = _workload.Cell(cart, slot);
                if (finals.TryGetValue(cart, out var final))
                {
                    cells.Add(new WriteCell(_ledger.AcknowledgedAt(cell), _ledger.FailedAt(cell), _initial[cell], final[slot]));
                }
                else
                {
                    acknowledgedUnchecked += _ledger.AcknowledgedAt(cell);
                    failedUnchecked += _ledger.FailedAt(cell);
                }
            }
        }

        return WriteCheck.From(cells, finals.Count, carts.Count - finals.Count, acknowledgedUnchecked, failedUnchecked);
    }

    /// <summary>One attempt to read a cart back, in the history as final reads of its lines.</summary>
    private async Task<IReadOnlyDictionary<string, int>> ReadBackCartAsync(int cart, CancellationToken cancellationToken)
    {
        var reads = _calls.InvokeLineReads(Operation.ReadBack, cart);
        IReadOnlyDictionary<string, int> lines;
        try
        {
            lines = await _target.ReadCartAsync(LoadWorkload.CartId(cart), cancellationToken);
        }
        catch (Exception ex)
        {
            Array.ForEach(reads, read => _calls.Recorder.Complete(read, LoadOutcomes.Classify(ex), error: FailureText.OneLine(ex.Message)));
            throw;
        }

        var quantities = _workload.SlotQuantities(cart, lines);
        for (var slot = 0; slot < reads.Length; slot++)
        {
            _calls.Recorder.Complete(reads[slot], OperationOutcome.Ok, quantities[slot]);
        }

        return lines;
    }

    /// <summary>Reads every product back (final reads of the registers), retrying while the cluster recovers.</summary>
    private async Task ReadBackProductsAsync(TimeSpan budget)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(budget.TotalSeconds * Stopwatch.Frequency);
        using var giveUp = new CancellationTokenSource(budget + TimeSpan.FromSeconds(5));
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(1, LoadWorkload.Products), Bounded(giveUp.Token), async (product, ct) =>
            {
                try
                {
                    await RetryAsync(() => ReadBackProductAsync(product, ct), deadline, ct);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || giveUp.IsCancellationRequested)
                {
                    // Unreadable in time: its register has no final read.
                }
            });
        }
        catch (OperationCanceledException)
        {
            // The budget is spent.
        }
    }

    private async Task<bool> ReadBackProductAsync(int product, CancellationToken cancellationToken)
    {
        var read = _calls.Recorder.Invoke(Operation.ReadBack, OperationKind.Read, _calls.ProductKey(product));
        try
        {
            var name = await _target.ReadProductNameAsync(LoadWorkload.Sku(product), cancellationToken);
            _calls.Recorder.Complete(read, OperationOutcome.Ok, LoadWorkload.ProductValue(name));
            return true;
        }
        catch (Exception ex)
        {
            _calls.Recorder.Complete(read, LoadOutcomes.Classify(ex), error: FailureText.OneLine(ex.Message));
            throw;
        }
    }

    private LoadReport Report(TimeSpan elapsed, bool stoppedEarly, WriteCheck check, HistoryCheck history)
    {
        var settings = new LoadSettings(
            _options.Concurrency, _options.Duration?.TotalSeconds, _options.RequestsPerClient, _options.Keys,
            _options.WritePercent, _options.ProductPercent,
            _options.Strikes().Select(s => new NemesisSetting(s.Mode, s.At.TotalSeconds, _options.LengthOf(s.Mode)?.TotalSeconds)).ToList());
        return _statistics.Report(_target.Name, settings, elapsed, stoppedEarly, _nemeses.Report(elapsed), check, history);
    }

    /// <summary>
    /// For the preparation and the read-back only (not the workload): repeats <paramref name="call"/> until it
    /// succeeds or the deadline passes (then its last error is thrown). Each attempt is cut off at the deadline.
    /// </summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> call, long deadline, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            var left = TimeSpan.FromSeconds(Math.Max(0.05, (deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency));
            try
            {
                return await call().WaitAsync(left, cancellationToken);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested && Stopwatch.GetTimestamp() + delay.TotalSeconds * Stopwatch.Frequency < deadline)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }
        }
    }

    private static ParallelOptions Bounded(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = PrepareParallelism, CancellationToken = cancellationToken };
}
