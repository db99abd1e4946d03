using Shards.Client.Launcher;

namespace Shards.Client.Load;

/// <summary>What the chaos did: an action, a detail for people, and the silo it took down when it took one down.</summary>
public sealed record ChaosAction(string Action, string Detail, string? SiloDown = null);

/// <summary>Breaks the cluster once during a load run, then reports the changes it sees until the run ends.</summary>
public interface IChaos
{
    /// <summary>Does the damage now.</summary>
    Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken);

    /// <summary>Reports silos leaving and (re)starting until <paramref name="cancellationToken"/> is cancelled.</summary>
    Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken);
}

/// <summary>
/// Chaos on the silos of this machine: <see cref="ChaosMode.Kill"/> SIGKILLs a random silo process of the cluster;
/// <see cref="ChaosMode.Restart"/> sends SIGUSR2 to the <c>shards cluster up</c> launcher, which replaces its silos
/// one at a time. Either way it then watches the silo processes (by their command lines) and reports changes.
/// </summary>
public sealed class ChaosMonkey : IChaos
{
    private static readonly TimeSpan s_watchInterval = TimeSpan.FromMilliseconds(500);
    private readonly ChaosMode _mode;
    private readonly string _clusterId;

    private ChaosMonkey(ChaosMode mode, string clusterId)
    {
        _mode = mode;
        _clusterId = clusterId;
    }

    /// <summary>
    /// The chaos for <paramref name="mode"/>, after checking that it can strike: a message a person can act on when
    /// it cannot (no silo to kill, no launcher to signal). Null for <see cref="ChaosMode.None"/>.
    /// </summary>
    public static (ChaosMonkey? Chaos, string? Problem) For(ChaosMode mode, string clusterId)
    {
        switch (mode)
        {
            case ChaosMode.Kill:
                var silos = SiloProcesses.Find(clusterId);
                return silos.Count >= 2
                    ? (new ChaosMonkey(mode, clusterId), null)
                    : (null, $"--chaos kill needs at least 2 silos of cluster '{clusterId}' running on this machine (found {silos.Count}), " +
                        "so that one survives: start them with 'shards cluster up --silos 3'.");
            case ChaosMode.Restart:
                return LauncherProcesses.Find(clusterId).Count > 0
                    ? (new ChaosMonkey(mode, clusterId), null)
                    : (null, "--chaos restart needs a running 'shards cluster up' (it replaces silos one at a time on SIGUSR2)" +
                        $" for cluster '{clusterId}' on this machine.");
            default:
                return (null, null);
        }
    }

    public Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken) =>
        Task.FromResult(_mode == ChaosMode.Kill ? Kill() : Restart());

    public async Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        var known = Snapshot();
        using var timer = new PeriodicTimer(s_watchInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var now = Snapshot();
                foreach (var (name, pid) in known.Where(k => !now.TryGetValue(k.Key, out var p) || p != k.Value))
                {
                    onChange(new ChaosAction("silo gone", $"{name} (pid {pid})"));
                }

                foreach (var (name, pid) in now.Where(n => !known.TryGetValue(n.Key, out var p) || p != n.Value))
                {
                    onChange(new ChaosAction("silo started", $"{name} (pid {pid})"));
                }

                known = now;
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    private ChaosAction Kill()
    {
        var silos = SiloProcesses.Find(_clusterId);
        if (silos.Count == 0)
        {
            return new ChaosAction("no kill", $"no silo of cluster '{_clusterId}' runs on this machine any more");
        }

        var victim = silos[Random.Shared.Next(silos.Count)];
        return PosixSignals.Send(victim.Pid, PosixSignals.SigKill)
            ? new ChaosAction("SIGKILL", $"{victim.Name} (pid {victim.Pid})", victim.Name)
            : new ChaosAction("no kill", $"could not signal {victim.Name} (pid {victim.Pid}): not allowed, or it just exited");
    }

    private ChaosAction Restart()
    {
        var launchers = LauncherProcesses.Find(_clusterId);
        if (launchers.Count == 0)
        {
            return new ChaosAction("no restart", "the 'shards cluster up' launcher is gone");
        }

        var launcher = launchers[0];

        return PosixSignals.Send(launcher.Pid, PosixSignals.SigUsr2)
            ? new ChaosAction("SIGUSR2", $"to the launcher (pid {launcher.Pid}): rolling restart")
            : new ChaosAction("no restart", $"could not signal the launcher (pid {launcher.Pid})");
    }

    private Dictionary<string, int> Snapshot() =>
        SiloProcesses.Find(_clusterId).GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.Max(p => p.Pid), StringComparer.Ordinal);
}
