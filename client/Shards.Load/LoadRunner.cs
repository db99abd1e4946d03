using System.Diagnostics;
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
    private static readonly TimeSpan s_readBackBudget = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_readBackBudgetAfterStop = TimeSpan.FromSeconds(25);
    private static readonly TimeSpan s_drain = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_drainAfterStop = TimeSpan.FromSeconds(5);

    private readonly ILoadTarget _target;
    private readonly LoadOptions _options;
    private readonly ILoadObserver _observer;
    private readonly LoadWorkload _workload;
    private readonly WorkloadCalls _calls;
    private readonly RunClock _clock = new();
    private readonly CartLocations _locations;
    private readonly KillRecoveryTracker _recovery;
    private readonly DependencyOutageTracker _outage;
    private readonly RunStatistics _statistics;
    private readonly NemesisSchedule _nemeses;
    private readonly LoadPreparation _preparation;
    private readonly LoadReadBack _readBack;
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
        var ledger = new WriteLedger(_workload.Cells);
        _locations = new CartLocations(target, options.Keys);
        _recovery = new KillRecoveryTracker(_locations, options.Keys);
        _outage = new DependencyOutageTracker(_clock);
        _statistics = new RunStatistics(_clock, _locations, _workload, ledger);
        _nemeses = new NemesisSchedule(options, nemeses, _calls.SetHot, _clock, _locations, _recovery, _outage, _observer);
        _preparation = new LoadPreparation(target, _workload, _calls, _locations, _observer);
        _readBack = new LoadReadBack(target, _workload, _calls, ledger, _preparation.StartingQuantities, _observer);
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
            await _preparation.PrepareAsync(stop);
            var (elapsed, stoppedEarly) = await RunClientsAsync(stop);
            await _nemeses.HealAsync();
            var budget = stoppedEarly ? s_readBackBudgetAfterStop : s_readBackBudget;
            var check = await _readBack.ReadBackCartsAsync(budget);
            await _readBack.ReadBackProductsAsync(budget);
            _observer.Phase("Checking the history ...");
            return Report(elapsed, stoppedEarly, check, HistoryChecker.Check(_calls.Declared(_preparation.StartingQuantities)));
        }
        finally
        {
            await _nemeses.HealAsync();
            await abort.CancelAsync();
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

    private LoadReport Report(TimeSpan elapsed, bool stoppedEarly, WriteCheck check, HistoryCheck history)
    {
        var settings = new LoadSettings(
            _options.Concurrency, _options.Duration?.TotalSeconds, _options.RequestsPerClient, _options.Keys,
            _options.WritePercent, _options.ProductPercent,
            _options.Strikes().Select(s => new NemesisSetting(s.Mode, s.At.TotalSeconds, _options.LengthOf(s.Mode)?.TotalSeconds)).ToList());
        return _statistics.Report(_target.Name, settings, elapsed, stoppedEarly, _nemeses.Report(elapsed), check, history);
    }
}
