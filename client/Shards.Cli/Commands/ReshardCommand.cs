using System.CommandLine;
using System.Diagnostics;
using Npgsql;
using Shards.Cli.Core;
using Shards.Contracts;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;
using Shards.Storage.Postgres.Resharding;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Cli.Commands;

/// <summary>
/// <c>shards reshard add|remove DB</c>: online resharding of the running service's grain state (docs/sharding.md).
/// DB is a connection string or a shard name: configured (<c>Shards__Storage__Shards__N__Name</c>), in the map, or, on
/// the private PostgreSQL of <c>shards cluster up</c>, a launcher name <c>sN</c> whose database <c>shards_sN</c> is created.
/// </summary>
internal static class ReshardCommand
{
    public static Command Create(GlobalOptions global)
    {
        var reshard = new Command("reshard", "Move grain state online to a new shard database, or off one (only the keys whose owner changes move)");
        reshard.Subcommands.Add(Operation(global, ReshardOperation.Add, "add", "Add a shard database: about 1/(N+1) of the keys move to it while the cluster serves"));
        reshard.Subcommands.Add(Operation(global, ReshardOperation.Remove, "remove", "Remove a shard database: its keys move to the other shards while the cluster serves"));
        return reshard;
    }

    private static Command Operation(GlobalOptions global, ReshardOperation operation, string name, string description)
    {
        var database = new Argument<string>("DB")
        {
            Description = "A shard name (e.g. s2), or the database's PostgreSQL connection string: name:NAME reads ConnectionStrings__NAME, - reads it from stdin " +
                "(a password given here shows in the process list)",
        };
        var shardName = new Option<string?>("--name") { Description = "The new shard's name when DB is a connection string (default: the first free sN)" };
        var command = new Command(name, description);
        command.Arguments.Add(database);
        if (operation == ReshardOperation.Add)
        {
            command.Options.Add(shardName);
        }

        global.SetAction(command, async (parseResult, context, ct) =>
        {
            var db = context.ConnectionArguments.Resolve(parseResult.GetValue(database)!, "DB"); // first: a bad name changes nothing
            var main = await context.ResolveConnectionStringAsync(startPrivateServer: false, ct);
            var serviceId = context.Cluster.ServiceId;
            try
            {
                await new SchemaMigrator(context.DataSources.For(main)).ApplyAsync(ct);
            }
            catch (NpgsqlException ex)
            {
                throw new CliException($"The main database {PostgresAvailability.Describe(main)} is not reachable: {ex.Message}. Nothing changed.", ExitCodes.Unavailable);
            }

            var map = await ShardMaps.ReadMapAsync(context, main, serviceId, ct)
                ?? throw new CliException($"Service '{serviceId}' has no shard map yet: start the cluster first ('shards cluster up'). Nothing changed.", ExitCodes.NotFound);
            var request = await ShardMaps.ResolveAsync(context, operation, db, parseResult.GetValue(shardName), map, ct);
            // Any silo not dead in the membership table (of any cluster on this database) may route by the old map: wait
            // the fences for it. None: nothing can hold a stale map, and the waits are skipped (asked again before each).
            var membership = new MembershipTableReader(context.DataSources.For(main));
            var coordinator = new ReshardCoordinator(context.DataSources, main, serviceId, context.StorageOptions, StateNames.GrainTypes)
            {
                SilosMayRoute = async token => (await membership.ReadNotDeadAsync(token)).Count > 0,
            };
            // The heading is printed with the first progress line: a request the coordinator refuses prints only its error.
            var heading = $"Resharding service '{serviceId}': {request} (shard map version {map.Version}; fence {coordinator.Fence.TotalSeconds:0.#} s) ...";
            ReshardResult result;
            try
            {
                result = await coordinator.RunAsync(request, new ProgressPrinter(heading), ct);
            }
            catch (ReshardException ex)
            {
                throw new CliException(ex.Message, ex.DependencyDown ? ExitCodes.Unavailable : ExitCodes.BadInput);
            }

            var moveSeconds = result.MoveTime.TotalSeconds;
            context.Output.Line(
                $"Resharding {(result.Resumed ? "resumed and " : string.Empty)}done: {request}. Shard map version {result.FromVersion} -> {result.TargetVersion}; " +
                $"{result.KeysMoved} key(s) moved" + (result.KeysScanned > 0 ? $" of {result.KeysScanned} scanned ({100.0 * result.KeysMoved / result.KeysScanned:0.0} %)" : string.Empty) +
                (result.Resumed ? $"; this run moved {result.KeysMovedThisRun}" : string.Empty) +
                $" in {moveSeconds:0.0} s ({(moveSeconds > 0 ? result.KeysMovedThisRun / moveSeconds : 0):0} keys/s); {result.TotalTime.TotalSeconds:0.0} s with the fences" +
                (result.FenceWaitsSkipped > 0 ? $" ({result.FenceWaitsSkipped} fence wait(s) skipped: no silo was live in the membership table)." : "."));
            if (operation == ReshardOperation.Remove)
            {
                context.Output.Line($"Shard '{request.Name}' holds no state of service '{serviceId}' any more: its connection string can be dropped from the silos' configuration.");
            }

            context.Output.Document(new
            {
                serviceId,
                operation = request.Verb,
                shard = request.Name,
                result.FromVersion,
                result.TargetVersion,
                result.KeysMoved,
                result.KeysMovedThisRun,
                result.KeysScanned,
                result.Resumed,
                moveSeconds,
                totalSeconds = result.TotalTime.TotalSeconds,
                result.FenceWaitsSkipped,
            });
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Progress on stderr: phases as they come, keys moved at most once a second.</summary>
    private sealed class ProgressPrinter(string heading) : IProgress<ReshardProgress>
    {
        private readonly Stopwatch _sinceLine = Stopwatch.StartNew();
        private string? _phase;
        private bool _started;

        public void Report(ReshardProgress value)
        {
            if (!_started)
            {
                _started = true;
                CliOutput.Status(heading);
            }

            if (value.Phase != _phase || _sinceLine.Elapsed >= TimeSpan.FromSeconds(1) || (value.KeysTotal > 0 && value.KeysMoved == value.KeysTotal))
            {
                _phase = value.Phase;
                _sinceLine.Restart();
                CliOutput.Status(value.Phase == "moving"
                    ? $"[{DateTime.Now:HH:mm:ss}] moved {value.KeysMoved}/{value.KeysTotal} keys ({100.0 * value.KeysMoved / Math.Max(1, value.KeysTotal):0} %), {value.KeysPerSecond:0} keys/s"
                    : $"[{DateTime.Now:HH:mm:ss}] {value.Phase}");
            }
        }
    }
}
