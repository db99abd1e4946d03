using System.CommandLine;
using Orleans.Runtime;
using Shards.Cli.Core;
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
        var command = new Command("members", "Show the cluster's membership table: silo, address, status, start time, last I-am-alive");
        command.Options.Add(all);
        global.SetAction(command, async (parseResult, context, ct) =>
        {
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
            // name and silo port), not from the table.
            var local = ClusterStateFile.For(context.Cluster.ClusterId).Read();
            var processes = local is { IsRunning: true, State: { } state } ? state.Silos.Where(s => s.IsRunning()).ToList() : [];
            if (local.IsStale && !context.Output.Json)
            {
                CliOutput.Status($"No PIDs or HTTP ports shown: {local.NotRunningReason}.");
            }

            LocalSiloState? Local(MembershipRow row) =>
                row.Status == SiloStatusCode.Active ? processes.FirstOrDefault(p => p.SiloPort == row.Port && p.Name == row.SiloName) : null;
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
