using System.Diagnostics;

namespace Shards.Load;

/// <summary>
/// The nemeses of a run: each strikes at its time, then heals and watches until the run ends. What they do is an event
/// of the run (told to the observer at once, listed in the report) and a change of the cluster (every cart location
/// asked before is stale); the first silo killed has its carts' recovery tracked, and a dependency outage its calls.
/// Some nemeses hold the run past its time (a resharding must happen under load).
/// </summary>
internal sealed class NemesisSchedule
{
    private readonly LoadOptions _options;
    private readonly IReadOnlyList<Nemesis> _nemeses;
    private readonly List<ChaosEvent> _events = [];
    private readonly RunClock _clock;
    private readonly CartLocations _locations;
    private readonly KillRecoveryTracker _recovery;
    private readonly DependencyOutageTracker _outage;
    private readonly ILoadObserver _observer;

    /// <summary>
    /// The strikes of <paramref name="options"/>, each by its nemesis of <paramref name="nemeses"/>, except
    /// <see cref="ChaosMode.Hot"/>, done by <see cref="HotKeysChaos"/> through <paramref name="setHot"/> when it is not
    /// given. A nemesis of the options that is not given does not strike.
    /// </summary>
    public NemesisSchedule(
        LoadOptions options,
        IReadOnlyDictionary<ChaosMode, IChaos> nemeses,
        Action<bool> setHot,
        RunClock clock,
        CartLocations locations,
        KillRecoveryTracker recovery,
        DependencyOutageTracker outage,
        ILoadObserver observer)
    {
        _options = options;
        _nemeses = options.Strikes()
            .Select(strike => (strike.Mode, strike.At, Chaos: nemeses.GetValueOrDefault(strike.Mode)
                ?? (strike.Mode == ChaosMode.Hot ? new HotKeysChaos(options.LengthOf(ChaosMode.Hot)!.Value, setHot) : null)))
            .Where(n => n.Chaos is not null)
            .Select(n => new Nemesis(n.Mode, n.Chaos!, n.At))
            .ToList();
        _clock = clock;
        _locations = locations;
        _recovery = recovery;
        _outage = outage;
        _observer = observer;
    }

    /// <summary>For the run's phase line: each nemesis, when it strikes and for how long.</summary>
    public string Plan() =>
        string.Concat(_nemeses.Select(n => $", {ChaosModes.Name(n.Mode)} at {LoadDuration.Format(n.At)}" +
            (_options.LengthOf(n.Mode) is { } length ? $" for {LoadDuration.Format(length)}" : string.Empty)));

    /// <summary>Every nemesis strikes at its time, then watches until <paramref name="watching"/> ends; done when all are.</summary>
    public Task StrikeAsync(CancellationToken run, CancellationToken watching) =>
        Task.WhenAll(_nemeses.Select(nemesis => ChaosAsync(nemesis, run, watching)));

    /// <summary>
    /// When the run's time is up: waits (until <paramref name="run"/> ends) for the nemeses that hold the run to be
    /// done, saying so when one is still at work.
    /// </summary>
    public async Task HoldTheRunAsync(CancellationToken run)
    {
        var holding = _nemeses.Where(n => n.Chaos.HoldsTheRun).Select(n => n.Done.Task).ToList();
        if (holding.Count > 0 && !holding.All(t => t.IsCompleted))
        {
            _observer.Phase($"Time is up; the clients go on until {string.Join(", ", _nemeses.Where(n => n.Chaos.HoldsTheRun).Select(n => ChaosModes.Name(n.Mode)))} is done ...");
            await Task.WhenAll(holding).WaitAsync(run);
        }
    }

    /// <summary>Whatever a nemesis still holds is undone (a stopped process resumed), however the run ends.</summary>
    public async Task HealAsync()
    {
        foreach (var nemesis in _nemeses)
        {
            try
            {
                await nemesis.Chaos.HealAsync();
            }
            catch (Exception ex)
            {
                Note(nemesis.Mode, new ChaosAction("heal FAILED", FailureText.OneLine(ex.Message)));
            }
        }
    }

    /// <summary>For the report of a run that lasted <paramref name="elapsed"/>; null without nemeses.</summary>
    public ChaosReport? Report(TimeSpan elapsed)
    {
        if (_nemeses.Count == 0)
        {
            return null;
        }

        List<ChaosEvent> events;
        lock (_events)
        {
            events = [.. _events];
        }

        var extended = _options.Duration is { } planned && elapsed > planned + TimeSpan.FromSeconds(1) && _nemeses.Any(n => n.Chaos.HoldsTheRun)
            ? (elapsed - planned).TotalSeconds
            : (double?)null;
        return new ChaosReport(_nemeses.Select(n => n.Mode).ToList(), events, _recovery.Report(), _outage.Report(), extended);
    }

    /// <summary>One nemesis: strikes at its time, heals and watches until the run ends; a failure of its own is an event, not the end of the run.</summary>
    private async Task ChaosAsync(Nemesis nemesis, CancellationToken run, CancellationToken watching)
    {
        try
        {
            try
            {
                await Task.Delay(nemesis.At, run);
            }
            catch (OperationCanceledException)
            {
                return; // the run ended first
            }

            var action = await nemesis.Chaos.StrikeAsync(run);
            if (action.SiloDown is { } silo && !_recovery.IsTracking)
            {
                var carts = _recovery.Track(silo);
                action = action with { Detail = $"{action.Detail}, hosting {carts} of {_options.Keys} carts" };
            }

            Note(nemesis.Mode, action);
            await nemesis.Chaos.WatchAsync(change => Note(nemesis.Mode, change), watching);
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested || watching.IsCancellationRequested)
        {
            // The run ended while it struck.
        }
        catch (Exception ex)
        {
            Note(nemesis.Mode, new ChaosAction($"{ChaosModes.Name(nemesis.Mode)} FAILED", FailureText.OneLine(ex.Message)));
        }
        finally
        {
            nemesis.Done.TrySetResult();
        }
    }

    private void Note(ChaosMode mode, ChaosAction action)
    {
        var now = Stopwatch.GetTimestamp();
        var chaosEvent = new ChaosEvent(_clock.SecondsAt(now), action.Action, action.Detail, action.Source ?? ChaosModes.Name(mode));
        lock (_events)
        {
            _events.Add(chaosEvent);
        }

        if (action.Outage == OutagePhase.Began)
        {
            _outage.Began(now);
        }
        else if (action.Outage == OutagePhase.Ended)
        {
            _outage.Ended(now);
        }

        _locations.TopologyChanged(now);
        _observer.Chaos(chaosEvent);
    }

    /// <summary>A nemesis of the run: what it is, when it strikes, and when it is done (healed and watched to the end).</summary>
    private sealed record Nemesis(ChaosMode Mode, IChaos Chaos, TimeSpan At)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
