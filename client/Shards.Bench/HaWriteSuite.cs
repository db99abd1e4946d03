using Shards.Cli.Core;
using Shards.Contracts.Catalog;

namespace Shards.Bench;

/// <summary>One in-flight level of <c>shards bench writes --ha</c>: the median round of each contender.</summary>
public sealed record HaWriteRow(
    int InFlight,
    double SingleWritesPerSecond,
    double SingleP99Ms,
    double HaWritesPerSecond,
    double HaP99Ms,
    double PgbenchSingleTps,
    double PgbenchHaTps,
    long Errors)
{
    /// <summary>Shards' writes on the formation over those on one server: what synchronous replication costs Shards.</summary>
    public double ShardsHaRatio => SingleWritesPerSecond > 0 ? HaWritesPerSecond / SingleWritesPerSecond : 0;

    /// <summary>pgbench -N on the formation's primary over pgbench -N on one server: what it costs PostgreSQL itself.</summary>
    public double PgbenchHaRatio => PgbenchSingleTps > 0 ? PgbenchHaTps / PgbenchSingleTps : 0;

    /// <summary>Shards on the formation against pgbench -N on the same primary.</summary>
    public double HaVsPgbench => PgbenchHaTps > 0 ? HaWritesPerSecond / PgbenchHaTps : 0;
}

public sealed record HaWriteResults(DateTimeOffset StartedAt, string Command, BenchMachine Machine, double SecondsPerRun, int Rounds, IReadOnlyList<HaWriteRow> Rows);

/// <summary>
/// <c>shards bench writes --ha</c>: the cost of synchronous replication, in one run. One private PostgreSQL server and
/// one pg_auto_failover formation (primary + synchronous standby) run side by side, each with a one-silo cluster (group
/// commit, the default); four contenders take turns in rounds of rotated order: Shards' acknowledged product upserts on
/// each, and <c>pgbench -N</c> with as many connections on each (on the formation: on its primary, through the same
/// read-write connection string). Both are stopped and deleted at the end.
/// </summary>
public static class HaWriteSuite
{
    private const int Keys = 1000;

    public static async Task<HaWriteResults> RunAsync(
        CliContext context, string workDirectory, bool quick, string command, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        IReadOnlyList<int> levels = quick ? [16] : [16, 64];
        var rounds = quick ? 1 : 3;
        var seconds = quick ? 3 : 5;
        await using var single = await BenchEnvironment.StartAsync(context, Path.Combine(workDirectory, "single"), "bench writes --ha", cancellationToken);
        await using var formation = await BenchEnvironment.StartAsync(context, Path.Combine(workDirectory, "ha"), "bench writes --ha", cancellationToken, highAvailability: true);
        await using var singleSilo = single.Launcher(1, "writes-one-server", "bench writes --ha");
        await using var haSilo = formation.Launcher(1, "writes-ha", "bench writes --ha");
        CliOutput.Status("bench writes --ha: starting a silo on each ...");
        await Task.WhenAll(singleSilo.StartAsync(cancellationToken), haSilo.StartAsync(cancellationToken));
        await using var singleClient = new CliContext(true, single.ConnectionString, "writes-one-server", context.DataSources);
        await using var haClient = new CliContext(true, formation.ConnectionString, "writes-ha", context.DataSources);

        var contenders = new List<(string Name, Func<int, CancellationToken, Task<double>> Run)>();
        var loops = new Dictionary<string, List<LoopResult>> { ["single"] = [], ["ha"] = [] };
        foreach (var (name, client) in new[] { ("single", singleClient), ("ha", haClient) })
        {
            var grains = await client.ConnectAsync(cancellationToken);
            CliOutput.Status($"bench writes --ha: seeding {Keys} products on '{name}' ...");
            await new StoreSeeder(grains, Keys, 0).SeedProductsAsync(null, cancellationToken);
            var products = Enumerable.Range(1, Keys).Select(i => grains.GetGrain<IProductGrain>(StoreSeeder.Sku(i))).ToArray();
            var version = 0;
            contenders.Add((name, async (inFlight, ct) =>
            {
                var loop = await ClosedLoop.RunAsync(
                    inFlight, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(seconds),
                    key => products[key].UpsertAsync(new ProductDefinition($"Product {key + 1}", 9.99m, 100 + (Interlocked.Increment(ref version) % 50))),
                    Keys, [], ct);
                loops[name].Add(loop);
                return loop.PerSecond;
            }));
        }

        foreach (var (name, environment) in new[] { ("pgbench-single", single), ("pgbench-ha", formation) })
        {
            var pgbench = new Pgbench(context.DataSources, environment.ConnectionString);
            CliOutput.Status($"bench writes --ha: pgbench -i on database 'pgbench' of {(name == "pgbench-ha" ? "the formation's primary" : "the single server")} ...");
            await pgbench.InitialiseAsync(cancellationToken);
            contenders.Add((name, (inFlight, ct) => pgbench.SimpleUpdateTpsAsync(inFlight, TimeSpan.FromSeconds(seconds), ct)));
        }

        var rows = new List<HaWriteRow>();
        foreach (var inFlight in levels)
        {
            var figures = contenders.ToDictionary(c => c.Name, _ => new List<double>());
            foreach (var list in loops.Values)
            {
                list.Clear();
            }

            for (var round = 0; round < rounds; round++)
            {
                for (var turn = 0; turn < contenders.Count; turn++)
                {
                    var (name, run) = contenders[(round + turn) % contenders.Count];
                    var figure = await run(inFlight, cancellationToken);
                    figures[name].Add(figure);
                    CliOutput.Status($"bench writes --ha: {inFlight} in flight, round {round + 1}: {name} {figure:N0}/s");
                }
            }

            var s = Median(loops["single"]);
            var h = Median(loops["ha"]);
            rows.Add(new HaWriteRow(
                inFlight, s.PerSecond, s.Latency.PercentileMs(99) ?? 0, h.PerSecond, h.Latency.PercentileMs(99) ?? 0,
                Median(figures["pgbench-single"]), Median(figures["pgbench-ha"]),
                loops.Values.SelectMany(r => r).Sum(r => r.Errors)));
        }

        return new HaWriteResults(startedAt, command, single.Machine, seconds, rounds, rows);
    }

    public static void Print(CliOutput output, HaWriteResults results)
    {
        var m = results.Machine;
        output.Line($"Machine: {m.Cores} cores, {m.MemoryGb:0.0} GB, PostgreSQL {m.PostgresVersion}, Orleans {m.OrleansVersion}; load average {m.LoadAverageAtStart} at the start");
        output.Line($"Command: {results.Command}   ({results.Rounds} round(s) of {results.SecondsPerRun:0} s per contender and level, rotated order; figures: the median round)");
        output.Line();
        output.Line("Persisted writes on one server and on the pg_auto_failover formation (commits wait for the synchronous standby): " +
            "ProductGrain.UpsertAsync on 1,000 products, 1 silo, group commit; pgbench -N with as many connections on each");
        output.Table(
            ["IN FLIGHT", "ONE SERVER W/S", "P99 MS", "HA W/S", "P99 MS", "HA / ONE", "PGBENCH ONE", "PGBENCH HA", "HA / ONE", "SHARDS HA / PGBENCH HA", "ERRORS"],
            results.Rows.Select(r => (IReadOnlyList<string>)
            [
                $"{r.InFlight:N0}", $"{r.SingleWritesPerSecond:N0}", $"{r.SingleP99Ms:0.00}", $"{r.HaWritesPerSecond:N0}", $"{r.HaP99Ms:0.00}",
                $"{r.ShardsHaRatio:0.00}x", $"{r.PgbenchSingleTps:N0}", $"{r.PgbenchHaTps:N0}", $"{r.PgbenchHaRatio:0.00}x", $"{r.HaVsPgbench:0.00}x", $"{r.Errors:N0}",
            ]));
    }

    private static LoopResult Median(List<LoopResult> runs) => runs.OrderBy(r => r.PerSecond).ElementAt(runs.Count / 2);

    private static double Median(List<double> figures) => figures.Order().ElementAt(figures.Count / 2);
}
