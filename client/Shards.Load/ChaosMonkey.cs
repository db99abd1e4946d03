using System.Diagnostics;
using Npgsql;
using Shards.LocalCluster;
using Shards.Postgres;

namespace Shards.Load;

/// <summary>
/// What the chaos did: an action, a detail for people, the silo it took down when it took one down, and whether a
/// dependency outage (PostgreSQL stopped) began or ended with it. <paramref name="Source"/> names what reported it when
/// that is not the nemesis itself (<c>silos</c>: silos seen leaving and starting, whatever made them).
/// </summary>
public sealed record ChaosAction(string Action, string Detail, string? SiloDown = null, OutagePhase? Outage = null, string? Source = null);

/// <summary>The start or end of a dependency outage the chaos caused.</summary>
public enum OutagePhase
{
    Began,
    Ended,
}

/// <summary>
/// A nemesis: breaks the cluster once during a load run, then heals (or lets the cluster heal) and reports the changes
/// it sees until the run ends.
/// </summary>
public interface IChaos
{
    /// <summary>Does the damage now.</summary>
    Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Heals when it is time (a frozen process resumed, PostgreSQL started again) and reports changes until
    /// <paramref name="cancellationToken"/> is cancelled at the end of the run; cancelled earlier, it heals at once.
    /// </summary>
    Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken);

    /// <summary>
    /// Undoes at once whatever the nemesis still holds (SIGCONT to what it stopped). Idempotent; the runner calls it
    /// however the run ends, also after an exception.
    /// </summary>
    Task HealAsync() => Task.CompletedTask;

    /// <summary>
    /// True when the clients must keep running until <see cref="WatchAsync"/> has returned, even past the run's time:
    /// the damage takes as long as it takes (a resharding), and it must happen under load.
    /// </summary>
    bool HoldsTheRun => false;
}

/// <summary>
/// Chaos on the silos of the cluster the run talks to, as the <c>shards cluster up</c> running from this folder lists
/// them in its state file (<see cref="ClusterStateFile"/>), and whose silo port is in the cluster's membership table
/// (a launcher of the same cluster ID on another PostgreSQL is left alone). <see cref="ChaosMode.Kill"/> SIGKILLs a
/// random active one; <see cref="ChaosMode.Freeze"/> SIGSTOPs one and SIGCONTs it after the freeze;
/// <see cref="ChaosMode.Restart"/> sends SIGUSR2 to that launcher, which replaces them one at a time. Unless told not
/// to (another nemesis of the run does it), it then watches those silo processes and reports changes.
/// </summary>
public sealed class ChaosMonkey : IChaos
{
    /// <summary>The <see cref="ChaosAction.Source"/> of silos seen leaving and starting.</summary>
    public const string SilosSource = "silos";
    private static readonly TimeSpan s_watchInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_watchdogMargin = TimeSpan.FromSeconds(10);
    private readonly ChaosMode _mode;
    private readonly string _clusterId;
    private readonly MembershipTableReader _membership;
    private readonly TimeSpan _freezeFor;
    private readonly bool _watchSilos;
    private static readonly TimeSpan s_membershipTimeout = TimeSpan.FromSeconds(3);
    private readonly ProcessFreezer _freezer = new();
    private readonly Dictionary<bool, HashSet<string>> _lastPorts = [];
    private (string Name, int Pid, long At)? _frozen;
    private (string Name, int Pid)? _killed;

    private ChaosMonkey(ChaosMode mode, string clusterId, NpgsqlDataSource database, TimeSpan freezeFor, bool watchSilos)
    {
        _mode = mode;
        _clusterId = clusterId;
        _membership = new MembershipTableReader(database);
        _freezeFor = freezeFor;
        _watchSilos = watchSilos;
    }

    /// <summary>
    /// The nemesis <paramref name="mode"/> (kill, freeze or restart), after checking that it can strike: a message a
    /// person can act on when it cannot (no silo to spare, no launcher to signal).
    /// </summary>
    /// <param name="database">The main database (the membership table), from the run's <see cref="PostgresDataSources"/>.</param>
    /// <param name="freezeFor">How long <see cref="ChaosMode.Freeze"/> keeps the silo stopped.</param>
    /// <param name="watchSilos">Whether it reports silos leaving and starting (one nemesis of a run does).</param>
    public static async Task<(ChaosMonkey? Chaos, string? Problem)> ForAsync(
        ChaosMode mode, string clusterId, NpgsqlDataSource database, CancellationToken cancellationToken, TimeSpan? freezeFor = null, bool watchSilos = true)
    {
        if (mode is not (ChaosMode.Kill or ChaosMode.Freeze or ChaosMode.Restart))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "The chaos monkey kills, freezes or restarts silos.");
        }

        var monkey = new ChaosMonkey(mode, clusterId, database, freezeFor ?? LoadOptions.DefaultFreeze, watchSilos);
        var local = ClusterStateFile.For(clusterId).Read();
        if (!local.IsRunning)
        {
            return (null, $"--chaos {ChaosModes.Name(mode)} acts on the silos of a 'shards cluster up' of cluster '{clusterId}' running from this folder, " +
                $"and none runs ({local.NotRunningReason}): start one with 'shards cluster up --silos 3'.");
        }

        var silos = await monkey.LocalSilosAsync(activeOnly: true, cancellationToken);
        if (mode is ChaosMode.Kill or ChaosMode.Freeze && silos.Count < 2)
        {
            return (null, $"--chaos {ChaosModes.Name(mode)} needs at least 2 active silos of cluster '{clusterId}' running on this machine (found {silos.Count}), " +
                "so that one survives: start them with 'shards cluster up --silos 3'.");
        }

        if (mode == ChaosMode.Restart)
        {
            var launcher = LauncherOf(clusterId);
            if (launcher is null)
            {
                return (null, "--chaos restart needs a running 'shards cluster up' (it replaces silos one at a time on SIGUSR2)" +
                    $" of cluster '{clusterId}' started from this folder; found {silos.Count} silo(s) and no such launcher.");
            }

            if (!LauncherProcesses.Catches(launcher.Value, PosixSignals.SigUsr2))
            {
                return (null, $"--chaos restart: the 'shards cluster up' launcher (pid {launcher}) does not handle SIGUSR2 " +
                    "(a build without rolling restarts), so the signal would terminate it and its silos. Restart the cluster with a newer build.");
            }
        }

        return (monkey, null);
    }

    public async Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken)
    {
        var silos = await LocalSilosAsync(activeOnly: true, cancellationToken);
        return _mode switch
        {
            ChaosMode.Kill => Kill(silos),
            ChaosMode.Freeze => Freeze(silos),
            _ => Restart(),
        };
    }

    public async Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        await Task.WhenAll(ThawAsync(onChange, cancellationToken), _watchSilos ? WatchSilosAsync(onChange, cancellationToken) : Task.CompletedTask);
    }

    public Task HealAsync()
    {
        _freezer.Resume();
        return Task.CompletedTask;
    }

    /// <summary>SIGCONT to the frozen silo when the freeze is over (at once if the run ends first).</summary>
    private async Task ThawAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        if (_frozen is not { } frozen)
        {
            return;
        }

        try
        {
            var left = _freezeFor - Stopwatch.GetElapsedTime(frozen.At);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended first: thaw now.
        }

        var resumed = _freezer.Resume();
        var after = Stopwatch.GetElapsedTime(frozen.At).TotalSeconds;
        onChange(resumed > 0
            ? new ChaosAction("SIGCONT", $"{frozen.Name} (pid {frozen.Pid}) after {after:0.0} s frozen")
            : new ChaosAction("no SIGCONT", $"{frozen.Name} (pid {frozen.Pid}) is gone after {after:0.0} s frozen " +
                "('shards cluster up' SIGKILLs a silo stopped for over 1 s and starts a new one; with --probes-only it stays frozen)"));
    }

    private async Task WatchSilosAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        try
        {
            var known = await SnapshotAsync(cancellationToken);
            if (_killed is { } killed && !known.ContainsKey(killed.Name))
            {
                known[killed.Name] = killed.Pid; // gone before the first look: still reported as gone
            }
            using var timer = new PeriodicTimer(s_watchInterval);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var now = await SnapshotAsync(cancellationToken);
                foreach (var (name, pid) in known.Where(k => !now.TryGetValue(k.Key, out var p) || p != k.Value))
                {
                    onChange(new ChaosAction("silo gone", $"{name} (pid {pid})", Source: SilosSource));
                }

                foreach (var (name, pid) in now.Where(n => !known.TryGetValue(n.Key, out var p) || p != n.Value))
                {
                    onChange(new ChaosAction("silo started", $"{name} (pid {pid})", Source: SilosSource));
                }

                known = now;
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    private ChaosAction Kill(IReadOnlyList<ClusterSiloProcess> silos)
    {
        if (silos.Count == 0)
        {
            return new ChaosAction("no kill", $"no active silo of cluster '{_clusterId}' runs on this machine any more");
        }

        var victim = silos[Random.Shared.Next(silos.Count)];
        if (!PosixSignals.Send(victim.Pid, PosixSignals.SigKill))
        {
            return new ChaosAction("no kill", $"could not signal {victim.Name} (pid {victim.Pid}): not allowed, or it just exited");
        }

        _killed = (victim.Name, victim.Pid);
        return new ChaosAction("SIGKILL", $"{victim.Name} (pid {victim.Pid})", victim.Name);
    }

    private ChaosAction Freeze(IReadOnlyList<ClusterSiloProcess> silos)
    {
        if (silos.Count == 0)
        {
            return new ChaosAction("no freeze", $"no active silo of cluster '{_clusterId}' runs on this machine any more");
        }

        var victim = silos[Random.Shared.Next(silos.Count)];
        var at = Stopwatch.GetTimestamp();
        if (!_freezer.Stop(victim.Pid))
        {
            return new ChaosAction("no freeze", $"could not signal {victim.Name} (pid {victim.Pid}): not allowed, or it just exited");
        }

        _freezer.ArmWatchdog(_freezeFor + s_watchdogMargin);
        _frozen = (victim.Name, victim.Pid, at);
        return new ChaosAction("SIGSTOP", $"{victim.Name} (pid {victim.Pid}) for {LoadDuration.Format(_freezeFor)}");
    }

    private ChaosAction Restart()
    {
        var launcher = LauncherOf(_clusterId);
        if (launcher is null)
        {
            return new ChaosAction("no restart", "the 'shards cluster up' launcher of the silos is gone");
        }

        return PosixSignals.Send(launcher.Value, PosixSignals.SigUsr2)
            ? new ChaosAction("SIGUSR2", $"to the launcher (pid {launcher}): rolling restart")
            : new ChaosAction("no restart", $"could not signal the launcher (pid {launcher})");
    }

    /// <summary>The pid of the <c>cluster up</c> running from this folder, from its state file; null when none runs.</summary>
    private static int? LauncherOf(string clusterId) =>
        ClusterStateFile.For(clusterId).Read() is { IsRunning: true, State: { } state } ? state.LauncherPid : null;

    /// <summary>
    /// Silo processes here whose silo port is in the membership table (Active rows only, if asked). While the table
    /// cannot be read in time (another nemesis stopped or stalled PostgreSQL), the ports it last listed: never a silo
    /// of another cluster that happens to share the cluster ID.
    /// </summary>
    private async Task<IReadOnlyList<ClusterSiloProcess>> LocalSilosAsync(bool activeOnly, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(s_membershipTimeout);
        HashSet<string> ports; // address:port of the silos in the table (a port alone may be another host's)
        try
        {
            var rows = await _membership.ReadAsync(_clusterId, bounded.Token);
            ports = rows.Where(r => !activeOnly || r.Status == SiloStatusCode.Active).Select(r => r.Endpoint).ToHashSet(StringComparer.Ordinal);
            lock (_lastPorts)
            {
                _lastPorts[activeOnly] = ports;
            }
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            lock (_lastPorts)
            {
                ports = _lastPorts.GetValueOrDefault(activeOnly) ?? _lastPorts.GetValueOrDefault(!activeOnly) ?? [];
            }
        }

        return ClusterSiloProcess.Find(_clusterId).Where(s => ports.Contains(s.Endpoint)).ToList();
    }

    private async Task<Dictionary<string, int>> SnapshotAsync(CancellationToken cancellationToken)
    {
        var silos = await LocalSilosAsync(activeOnly: false, cancellationToken);
        return silos.GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.Max(p => p.Pid), StringComparer.Ordinal);
    }
}

/// <summary>A silo process of the local cluster, as its launcher's state file lists it.</summary>
public sealed record ClusterSiloProcess(int Pid, string Name, string Address, int SiloPort, int LauncherPid)
{
    /// <summary>address:port, as the membership table's rows give it.</summary>
    public string Endpoint => $"{Address}:{SiloPort}";

    /// <summary>
    /// The silos of the <c>shards cluster up</c> of <paramref name="clusterId"/> running from this folder (its state in
    /// <paramref name="stateDirectory"/>, default <c>.shards</c>) whose process runs (same pid and start time as the
    /// launcher wrote down); empty when none runs.
    /// </summary>
    public static IReadOnlyList<ClusterSiloProcess> Find(string clusterId, string? stateDirectory = null) =>
        ClusterStateFile.For(clusterId, stateDirectory).Read() is { IsRunning: true, State: { } state }
            ? [.. state.Silos.Where(s => s.IsRunning()).Select(s => new ClusterSiloProcess(s.Pid!.Value, s.Name, s.Address, s.SiloPort, state.LauncherPid))]
            : [];
}
