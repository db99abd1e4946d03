using System.Diagnostics;
using Shards.Load;
using Shards.LocalCluster;
using Shards.Postgres;

namespace Shards.Bench;

/// <summary>
/// Freezes (SIGSTOP) the running silo that hosts the most of the run's carts, then watches the membership table
/// until that silo's row says Dead: no process exits, so either the silos' probes find it out, or a launcher that
/// watches its processes' state (<see cref="LauncherOptions.KillFrozenSilosAfter"/>) kills it. The frozen process is
/// then SIGKILLed (if still there), as an operator would, so that it never comes back.
/// </summary>
public sealed class FreezeChaos(ClusterLauncher launcher, ILoadTarget target, MembershipTableReader membership, string clusterId, int keys) : IChaos
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_giveUp = TimeSpan.FromSeconds(60);
    private SupervisedSilo? _frozen;
    private int? _frozenPid;
    private SiloIdentity? _frozenRow; // the frozen process's membership row: address, port, generation

    public long? StruckAt { get; private set; }

    /// <summary>From SIGSTOP until the membership table said Dead; null if it did not within a minute.</summary>
    public double? EvictedAfterSeconds { get; private set; }

    public async Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken)
    {
        var running = launcher.Silos.Where(s => s.State == SupervisedSiloState.Running && s.Pid is not null).ToList();
        if (running.Count < 2)
        {
            return new ChaosAction("no freeze", $"only {running.Count} silo(s) running");
        }

        var hosts = await Task.WhenAll(Enumerable.Range(0, keys).Select(cart => target.LocateCartAsync(LoadWorkload.CartId(cart), cancellationToken)));
        _frozen = running.MaxBy(silo => hosts.Count(host => host == silo.Name))!;
        _frozenPid = _frozen.Pid;
        _frozenRow = _frozen.Joined;
        StruckAt = Stopwatch.GetTimestamp();
        return _frozenPid is { } pid && PosixSignals.Send(pid, PosixSignals.SigStop)
            ? new ChaosAction("SIGSTOP", $"{_frozen.Name} (pid {pid})", _frozen.Name)
            : new ChaosAction("no freeze", $"could not signal {_frozen.Name}");
    }

    public async Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        if (_frozen is null || StruckAt is not { } struck)
        {
            return;
        }

        // Watched to the end even when the load run ends first (bounded by s_giveUp).
        while (Stopwatch.GetElapsedTime(struck) < s_giveUp)
        {
            var rows = await membership.ReadAsync(clusterId, CancellationToken.None);
            if (_frozenRow is { } frozen && rows.Any(r => frozen.Is(r) && r.Status == SiloStatusCode.Dead))
            {
                EvictedAfterSeconds = Stopwatch.GetElapsedTime(struck).TotalSeconds;
                onChange(new ChaosAction("declared dead", $"{_frozen.Name} after {EvictedAfterSeconds:0.00} s frozen"));
                break;
            }

            await Task.Delay(s_poll, CancellationToken.None);
        }

        Release();
    }

    /// <summary>SIGKILLs the frozen process (it would end itself on SIGCONT anyway: it was declared dead).</summary>
    public void Release()
    {
        if (_frozenPid is { } pid)
        {
            PosixSignals.Send(pid, PosixSignals.SigKill);
            _frozenPid = null;
        }
    }
}
