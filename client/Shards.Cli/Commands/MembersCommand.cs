using System.CommandLine;
using Orleans.Runtime;
using Shards.Cli.Core;
using Shards.Load;
using Shards.Json;
using Shards.LocalCluster;
using Shards.Postgres;

namespace Shards.Cli.Commands;

/// <summary><c>shards members</c>: the live membership table, Shards' service registry.</summary>
internal static class MembersCommand
{
    public static Command Create(GlobalOptions global)
    {
        var all = new Option<bool>("--all") { Description = "Also list silos that are dead or shut down" };
        var watch = new Option<bool>("--watch") { Description = "Keep refreshing, as 'shards top' does (its live view, until Ctrl+C)" };
        var command = new Command("members", "Show the cluster's membership table: silo, address, status, start time, last I-am-alive");
        command.Options.Add(all);
        command.Options.Add(watch);
        command.Subcommands.Add(Prune(global));
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            if (parseResult.GetValue(watch))
            {
                return await TopCommand.RunAsync(context, TopSettings.Default, ct);
            }

            var connectionString = await context.ResolveConnectionStringAsync(startPrivateServer: false, ct);
            var rows = await new MembershipTableReader(context.DataSources.For(connectionString)).ReadAsync(context.Cluster.ClusterId, ct);
            if (rows.Count == 0)
            {
                throw new CliException(
                    $"No silo of cluster '{context.Cluster.ClusterId}' has ever joined on this database: check --cluster-id " +
                    "(the default is 'shards'), or start the cluster with 'shards cluster up'.",
                    ExitCodes.NotFound);
            }

            var shown = parseResult.GetValue(all) ? rows : rows.Where(r => r.Status != SiloStatusCode.Dead).ToList();
            // PID and HTTP port come from the state file of the 'shards cluster up' running from this folder (matched by
            // name, address, port and generation: a port alone is reused by restarts), not from the table.
            var local = ClusterStateFile.For(context.Cluster.ClusterId).Read();
            var processes = local is { IsRunning: true, State: { } state } ? state.Silos.Where(s => s.IsRunning()).ToList() : [];
            if (local.IsStale && !context.Output.Json)
            {
                CliOutput.Status($"No PIDs or HTTP ports shown: {local.NotRunningReason}.");
            }

            LocalSiloState? Local(MembershipRow row) => LocalProcessOf(row, processes);
            var now = DateTimeOffset.UtcNow;
            context.Output.Table(
                ["SILO", "ADDRESS", "GATEWAY", "HTTP", "STATUS", "STARTED (UTC)", "I-AM-ALIVE", "PID"],
                shown.Select(r => (IReadOnlyList<string>)
                [
                    r.SiloName, $"{r.Endpoint}@{r.Generation}", r.GatewayPort.ToString(), Local(r) is { HttpPort: > 0 } http ? http.HttpPort.ToString() : "-",
                    r.Status.ToString(), r.StartTime.ToString("yyyy-MM-dd HH:mm:ss"), $"{(now - r.IAmAliveTime).TotalSeconds:0}s ago",
                    Local(r)?.Pid.ToString() ?? "-",
                ]));
            var active = rows.Count(r => r.Status == SiloStatusCode.Active);
            var dead = rows.Count(r => r.Status == SiloStatusCode.Dead);
            context.Output.Line($"{active} active, {dead} dead, {rows.Count} row(s) for cluster '{context.Cluster.ClusterId}'.");
            context.Output.Document(new
            {
                clusterId = context.Cluster.ClusterId,
                launcher = new { stateFile = local.Path, running = local.IsRunning, pid = local.IsRunning ? local.State?.LauncherPid : null, stale = local.StaleBecause },
                members = shown.Select(r => Document(r, Local(r))),
            });
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// The process of this folder's <c>cluster up</c> that an Active row is: same name, address and port, and the same
    /// generation once the launcher saw it join (a process whose join it did not see, e.g. because PostgreSQL was
    /// restarting then, has none recorded: name, address and port decide).
    /// </summary>
    internal static LocalSiloState? LocalProcessOf(MembershipRow row, IEnumerable<LocalSiloState> processes) =>
        row.Status != SiloStatusCode.Active
            ? null
            : processes.FirstOrDefault(p =>
                p.Name == row.SiloName && p.Address == row.Address && p.SiloPort == row.Port && (p.Generation ?? row.Generation) == row.Generation);

    /// <summary><c>shards members prune</c>: deletes the cluster's Dead rows (every one, or those older than --older-than).</summary>
    private static Command Prune(GlobalOptions global)
    {
        var olderThan = DurationOption.Create(
            "--older-than",
            "Only rows whose start, last I-am-alive and suspicion votes are older than this: 30s, 10m, 1h or seconds " +
            "(default 0: every Dead row; the silos' own cleanup waits for DefunctSiloExpiration, 1h)",
            TimeSpan.Zero,
            zeroAllowed: true);
        var command = new Command("prune", "Delete the cluster's Dead silo rows from the membership table; Active, Joining and ShuttingDown rows are never touched")
        {
            olderThan,
        };
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            var connectionString = await context.ResolveConnectionStringAsync(startPrivateServer: false, ct);
            var age = parseResult.GetValue(olderThan);
            var removed = await new DeadMembersPruner(context.DataSources.For(connectionString)).PruneAsync(context.Cluster.ClusterId, age, ct);
            context.Output.Line(
                $"Removed {removed.Count} dead row(s) of cluster '{context.Cluster.ClusterId}'" +
                (age > TimeSpan.Zero ? $" older than {LoadDuration.Format(age)}." : "."));
            context.Output.Document(new
            {
                clusterId = context.Cluster.ClusterId,
                olderThanSeconds = age.TotalSeconds,
                removed = removed.Count,
                silos = removed.Select(r => new { r.SiloName, r.SiloAddress, r.StartTime, r.IAmAliveTime }),
            });
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// A row as the same member document as GET /api/members, with what only the table and the launcher's state file
    /// know (the table's status codes are Orleans' <see cref="SiloStatus"/> values).
    /// </summary>
    internal static MemberDocument Document(MembershipRow row, LocalSiloState? local) =>
        new(row.SiloName, row.Endpoint, row.Generation, row.SiloAddress, (SiloStatus)(int)row.Status)
        {
            HostName = row.HostName,
            GatewayPort = row.GatewayPort,
            StartTime = row.StartTime,
            IAmAliveTime = row.IAmAliveTime,
            SuspectTimes = row.SuspectTimes,
            Pid = local?.Pid,
            HttpPort = local?.HttpPort is > 0 and var port ? port : null,
        };
}
