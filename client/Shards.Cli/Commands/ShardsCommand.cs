using System.CommandLine;
using Npgsql;
using Shards.Cli.Core;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Cli.Commands;

/// <summary>
/// <c>shards map</c> (also spelled <c>shards shards</c>): the service's shard map, and rows and bytes per shard database.
/// </summary>
internal static class ShardsCommand
{
    /// <summary>
    /// The command's name. System.CommandLine cannot have a subcommand named like the root command
    /// (dotnet/command-line-api#2260), so <c>shards shards</c> is rewritten to this (<see cref="Cli.ShardsCli.RunAsync"/>).
    /// </summary>
    public const string Name = "map";

    public const string Spelling = "shards";

    public static Command Create(GlobalOptions global)
    {
        var command = new Command(Name, $"Show the shard map (version, shards, ring share) and the rows and bytes of grain state per shard database (also: shards {Spelling})");
        global.SetAction(command, async (_, context, ct) =>
        {
            var main = await context.ResolveConnectionStringAsync(startPrivateServer: false, ct);
            var serviceId = context.Cluster.ServiceId;
            var map = await ShardMaps.ReadMapAsync(context, main, serviceId, ct)
                ?? throw new CliException($"Service '{serviceId}' has no shard map yet: the first silo that starts creates it.", ExitCodes.NotFound);
            var shares = map.Document.CreateRouter().RingShares();
            var shards = new List<ShardReport>();
            var inspection = new ShardInspection(context.DataSources);
            foreach (var shard in ShardInspection.ConnectionsFor(map.Document, main, context.StorageOptions))
            {
                try
                {
                    var states = await inspection.StatisticsAsync(shard.ConnectionString, serviceId, ct);
                    shards.Add(new ShardReport(shard.Name, shard.Target, shares[shard.Name], states.Sum(s => s.Rows), states.Sum(s => s.Bytes), states, null));
                }
                catch (NpgsqlException ex)
                {
                    shards.Add(new ShardReport(shard.Name, shard.Target, shares[shard.Name], null, null, [], ex.Message));
                }
            }

            var output = context.Output;
            output.Line($"Shard map of service '{serviceId}': version {map.Version}, created {map.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC, " +
                $"{map.Document.Algorithm} with {map.Document.VirtualNodes} virtual nodes per shard");
            output.Line();
            output.Table(
                ["SHARD", "DATABASE", "RING SHARE", "ROWS", "BYTES"],
                shards.Select(s => (IReadOnlyList<string>)[s.Name, s.Database, $"{s.RingShare * 100:0.0} %", s.Rows?.ToString() ?? "-", s.Bytes is { } b ? Bytes(b) : "-"]));
            var byState = shards.SelectMany(s => s.States.Select(state => (s.Name, state))).ToList();
            if (byState.Count > 0)
            {
                output.Line();
                output.Table(
                    ["SHARD", "STATE", "ROWS", "BYTES"],
                    byState.Select(x => (IReadOnlyList<string>)[x.Name, x.state.State, x.state.Rows.ToString(), Bytes(x.state.Bytes)]));
            }

            foreach (var failed in shards.Where(s => s.Error is not null))
            {
                output.Line($"{failed.Name} ({failed.Database}) is unreachable: {failed.Error}");
            }

            var total = shards.Sum(s => s.Rows ?? 0);
            output.Line();
            output.Line($"{total} row(s) of service '{serviceId}' in {shards.Count} shard database(s).");
            output.Document(new { serviceId, map.Version, map.CreatedAt, map.Document.Algorithm, map.Document.VirtualNodes, shards });
            return shards.Any(s => s.Error is not null) ? ExitCodes.Unavailable : ExitCodes.Ok;
        });
        return command;
    }

    private static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.0} kB",
        _ => $"{bytes / (1024.0 * 1024):0.0} MB",
    };

    private sealed record ShardReport(
        string Name, string Database, double RingShare, long? Rows, long? Bytes, IReadOnlyList<ShardStateStatistics> States, string? Error);
}
