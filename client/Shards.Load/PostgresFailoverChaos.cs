using System.Diagnostics;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;

namespace Shards.Load;

/// <summary>
/// The nemeses of the private high-availability formation (<c>shards db start --ha</c>):
/// <list type="bullet">
/// <item><c>pg-failover</c>: SIGKILL the primary's keeper and PostgreSQL together, as a host that dies (the keeper
/// alone would restart a killed postmaster within a second); the monitor promotes the standby. After
/// <c>--outage</c> the node is started again and rejoins as the standby.</item>
/// <item><c>pg-switchover</c>: a planned <c>pg_autoctl perform switchover</c>; the standby becomes the primary.</item>
/// <item><c>pg-standby-kill</c>: SIGKILL the standby the same way; the primary goes on alone (no synchronous standby)
/// until the node is started again after <c>--outage</c>.</item>
/// </list>
/// The outage the report measures runs from the strike to the moment the monitor has a writable primary again (a new
/// one for pg-failover and pg-switchover); the write-unavailability window is from the first to the last failed write.
/// Whatever ends the run, a killed node is started again.
/// </summary>
public sealed class PostgresFailoverChaos : IChaos
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(100);
    private readonly PostgresHaFormation _formation;
    private readonly ChaosMode _mode;
    private readonly TimeSpan _nodeDown;
    private string? _struckNode;
    private string? _formerPrimary;
    private Task? _switchover;
    private long _struckAt;
    private int _restarted;

    private PostgresFailoverChaos(PostgresHaFormation formation, ChaosMode mode, TimeSpan nodeDown)
    {
        _formation = formation;
        _mode = mode;
        _nodeDown = nodeDown;
    }

    /// <summary>The nemesis for a running formation with a primary and a standby in sync, or a message a person can act on.</summary>
    public static async Task<(PostgresFailoverChaos? Chaos, string? Problem)> ForAsync(
        PostgresHaFormation? formation, ChaosMode mode, TimeSpan nodeDown, CancellationToken cancellationToken)
    {
        var name = ChaosModes.Name(mode);
        if (formation is null)
        {
            return (null, $"--chaos {name} needs the private PostgreSQL formation: start it with 'shards db start --ha' or 'shards cluster up --ha'.");
        }

        var status = await formation.GetStatusAsync(cancellationToken);
        if (!status.MonitorRunning || !status.Nodes.Any(n => n.IsPrimary) || !status.Nodes.Any(n => n.IsSecondary))
        {
            return (null, $"--chaos {name} needs the formation in {formation.RootDirectory} with its monitor, a primary and a standby in sync " +
                $"(now: {Describe(status)}); see 'shards db status', or start what is missing with 'shards db start --ha'.");
        }

        return (new PostgresFailoverChaos(formation, mode, nodeDown), null);
    }

    public async Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken)
    {
        var primary = await _formation.NodeInRoleAsync(PostgresHaRole.Primary, cancellationToken);
        var standby = await _formation.NodeInRoleAsync(PostgresHaRole.Standby, cancellationToken);
        _formerPrimary = primary?.Name;
        Volatile.Write(ref _struckAt, Stopwatch.GetTimestamp());
        switch (_mode)
        {
            case ChaosMode.PgFailover when primary is not null:
                _struckNode = primary.Name;
                _formation.KillNode(primary.Name);
                return new ChaosAction("pg primary killed", $"{primary.Name} (127.0.0.1:{primary.Port}): keeper and PostgreSQL SIGKILLed; down for {LoadDuration.Format(_nodeDown)}", Outage: OutagePhase.Began);
            case ChaosMode.PgStandbyKill when standby is not null:
                _struckNode = standby.Name;
                _formation.KillNode(standby.Name);
                return new ChaosAction("pg standby killed", $"{standby.Name} (127.0.0.1:{standby.Port}): keeper and PostgreSQL SIGKILLed; down for {LoadDuration.Format(_nodeDown)}", Outage: OutagePhase.Began);
            case ChaosMode.PgSwitchover when primary is not null && standby is not null:
                _switchover = _formation.SwitchoverAsync(CancellationToken.None);
                return new ChaosAction("pg switchover", $"pg_autoctl perform switchover: {standby.Name} to take over from {primary.Name}", Outage: OutagePhase.Began);
            default:
                throw new InvalidOperationException($"the formation has no {(_mode == ChaosMode.PgStandbyKill ? "standby" : "primary")} to strike now (see 'shards db status').");
        }
    }

    public async Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        var struckAt = Volatile.Read(ref _struckAt);
        if (struckAt == 0)
        {
            return; // never struck
        }

        try
        {
            if (_switchover is not null)
            {
                await _switchover.WaitAsync(cancellationToken);
            }

            // A writable primary again: another node than before; when the standby was struck, the primary once the
            // monitor let it run alone (wait_primary: commits no longer wait for the lost standby).
            var primary = await UntilAsync(
                s => s.Nodes.FirstOrDefault(n => n.IsPrimary && n.ReportedState == n.AssignedState &&
                    (_mode == ChaosMode.PgStandbyKill ? n.ReportedState == "wait_primary" : n.Name != _formerPrimary)),
                cancellationToken);
            onChange(new ChaosAction(
                _mode == ChaosMode.PgStandbyKill ? "pg primary alone" : "pg promoted",
                $"{primary.Name} is the primary ({primary.ReportedState}) {Elapsed(struckAt)} after the strike", Outage: OutagePhase.Ended));
            if (_struckNode is not null)
            {
                var left = _nodeDown - Stopwatch.GetElapsedTime(struckAt);
                if (left > TimeSpan.Zero)
                {
                    await Task.Delay(left, cancellationToken);
                }

                await RestartStruckNodeAsync(onChange, CancellationToken.None);
            }

            var standby = await UntilAsync(s => s.Nodes.FirstOrDefault(n => n.IsSecondary && n.ReportedState == n.AssignedState), cancellationToken);
            onChange(new ChaosAction("pg in sync", $"{standby.Name} is the synchronous standby again {Elapsed(struckAt)} after the strike"));
        }
        catch (OperationCanceledException)
        {
            // The run ended first: a killed node is started again all the same.
            await RestartStruckNodeAsync(onChange, CancellationToken.None);
        }
    }

    public async Task HealAsync()
    {
        if (_struckNode is not null && Interlocked.Exchange(ref _restarted, 1) == 0)
        {
            await _formation.StartNodeAsync(_struckNode, CancellationToken.None);
        }
    }

    private async Task RestartStruckNodeAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        if (_struckNode is null || Interlocked.Exchange(ref _restarted, 1) == 1)
        {
            return;
        }

        try
        {
            await _formation.StartNodeAsync(_struckNode, cancellationToken);
            onChange(new ChaosAction("pg node started", $"{_struckNode} started again {Elapsed(Volatile.Read(ref _struckAt))} after the strike; it rejoins as the standby"));
        }
        catch (Exception ex) when (ex is PostgresNotAvailableException or IOException)
        {
            onChange(new ChaosAction("pg node start FAILED", $"{FailureText.OneLine(ex.Message)} (start it with 'shards db start --ha')"));
        }
    }

    private async Task<PostgresHaNodeStatus> UntilAsync(Func<PostgresHaStatus, PostgresHaNodeStatus?> found, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (found(await _formation.GetStatusAsync(cancellationToken)) is { } node)
            {
                return node;
            }

            await Task.Delay(s_poll, cancellationToken);
        }
    }

    private static string Elapsed(long since) => $"{Stopwatch.GetElapsedTime(since).TotalSeconds:0.0} s";

    private static string Describe(PostgresHaStatus status) =>
        !status.Running ? "stopped"
        : string.Join(", ", status.Nodes.Select(n => $"{n.Name} {n.ReportedState ?? (n.KeeperRunning ? "unknown" : "stopped")}")) +
          (status.MonitorRunning ? string.Empty : ", monitor stopped");
}
