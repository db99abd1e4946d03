using Shards.Cli.Core;
using Shards.Contracts.Catalog;

namespace Shards.Bench;

/// <summary>One in-flight level of <c>shards bench writes</c>: the median of its rounds for each contender.</summary>
public sealed record WriteModeRow(
    int InFlight,
    double SingleWritesPerSecond,
    double SingleP50Ms,
    double SingleP99Ms,
    double GroupWritesPerSecond,
    double GroupP50Ms,
    double GroupP99Ms,
    double PgbenchTps,
    long Errors)
{
    public double SingleRatio => PgbenchTps > 0 ? SingleWritesPerSecond / PgbenchTps : 0;

    public double GroupRatio => PgbenchTps > 0 ? GroupWritesPerSecond / PgbenchTps : 0;

    public bool TargetMet => GroupRatio >= BenchResults.WriteTarget;
}

public sealed record WriteModesResults(DateTimeOffset StartedAt, string Command, BenchMachine Machine, double SecondsPerRun, int Rounds, IReadOnlyList<WriteModeRow> Rows);

/// <summary>
/// <c>shards bench writes</c>: persisted writes three ways in one run, on one PostgreSQL server: Shards with every
/// write its own transaction (<c>Shards:Storage:GroupCommit:Enabled=false</c>, the storage as it was), Shards with
/// group commit (the default), and <c>pgbench -N</c> with as many connections as writes in flight. Two one-silo
/// clusters run side by side (separate service IDs, so separate rows), and the three contenders take turns in rounds
/// of rotated order, so that the machine's drift hits each alike.
/// </summary>
public static class WriteModesSuite
{
    public static async Task<WriteModesResults> RunAsync(
        CliContext context, string workDirectory, bool quick, string command, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        IReadOnlyList<int> levels = quick ? [16] : [16, 64];
        var rounds = quick ? 1 : 3;
        var seconds = quick ? 3 : 5;
        const int Keys = 1000;
        await using var environment = await BenchEnvironment.StartAsync(context, workDirectory, "bench writes", cancellationToken);
        await using var single = environment.Launcher(
            1, "writes-single", "bench writes", siloSettings: new Dictionary<string, string> { ["Shards:Storage:GroupCommit:Enabled"] = "false" });
        await using var group = environment.Launcher(1, "writes-group", "bench writes");
        CliOutput.Status("bench writes: starting a silo without group commit and one with it ...");
        await Task.WhenAll(single.StartAsync(cancellationToken), group.StartAsync(cancellationToken));
        await using var singleClient = new CliContext(true, environment.ConnectionString, "writes-single", context.DataSources);
        await using var groupClient = new CliContext(true, environment.ConnectionString, "writes-group", context.DataSources);
        var contenders = new List<(string Name, Func<int, CancellationToken, Task<LoopResult>> Run)>();
        foreach (var (name, client) in new[] { ("single", singleClient), ("group", groupClient) })
        {
            var grains = await client.ConnectAsync(cancellationToken);
            CliOutput.Status($"bench writes: seeding {Keys} products for '{name}' ...");
            await new StoreSeeder(grains, Keys, 0).SeedProductsAsync(null, cancellationToken);
            var products = Enumerable.Range(1, Keys).Select(i => grains.GetGrain<IProductGrain>(StoreSeeder.Sku(i))).ToArray();
            var version = 0;
            contenders.Add((name, (inFlight, ct) => ClosedLoop.RunAsync(
                inFlight, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(seconds),
                key => products[key].UpsertAsync(new ProductDefinition($"Product {key + 1}", 9.99m, 100 + (Interlocked.Increment(ref version) % 50))),
                Keys, [], ct)));
        }

        var pgbench = new Pgbench(context.DataSources, environment.ConnectionString);
        CliOutput.Status("bench writes: pgbench -i on database 'pgbench' of the same server ...");
        await pgbench.InitialiseAsync(cancellationToken);
        var rows = new List<WriteModeRow>();
        foreach (var inFlight in levels)
        {
            var runs = new Dictionary<string, List<LoopResult>> { ["single"] = [], ["group"] = [] };
            var tps = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                for (var turn = 0; turn < 3; turn++)
                {
                    var which = (round + turn) % 3;
                    if (which == 2)
                    {
                        tps.Add(await pgbench.SimpleUpdateTpsAsync(inFlight, TimeSpan.FromSeconds(seconds), cancellationToken));
                        CliOutput.Status($"bench writes: {inFlight} in flight, round {round + 1}: pgbench -N {tps[^1]:N0} TPS");
                        continue;
                    }

                    var (name, run) = contenders[which];
                    var result = await run(inFlight, cancellationToken);
                    runs[name].Add(result);
                    CliOutput.Status($"bench writes: {inFlight} in flight, round {round + 1}: {name} {result.PerSecond:N0} writes/s, p50 {result.Latency.PercentileMs(50):0.00} ms");
                }
            }

            var s = Median(runs["single"]);
            var g = Median(runs["group"]);
            rows.Add(new WriteModeRow(
                inFlight,
                s.PerSecond, s.Latency.PercentileMs(50) ?? 0, s.Latency.PercentileMs(99) ?? 0,
                g.PerSecond, g.Latency.PercentileMs(50) ?? 0, g.Latency.PercentileMs(99) ?? 0,
                tps.Order().ElementAt(tps.Count / 2),
                runs.Values.SelectMany(r => r).Sum(r => r.Errors)));
        }

        return new WriteModesResults(startedAt, command, environment.Machine, seconds, rounds, rows);
    }

    public static void Print(CliOutput output, WriteModesResults results)
    {
        var m = results.Machine;
        output.Line($"Machine: {m.Cores} cores, {m.MemoryGb:0.0} GB, PostgreSQL {m.PostgresVersion}, Orleans {m.OrleansVersion}; load average {m.LoadAverageAtStart} at the start");
        output.Line($"Command: {results.Command}   ({results.Rounds} round(s) of {results.SecondsPerRun:0} s per contender and level, rotated order; figures: the median round)");
        output.Line();
        output.Line($"Persisted writes: ProductGrain.UpsertAsync on 1,000 seeded products, 1 silo; 'single' = one transaction per write, 'group' = group commit (default); vs pgbench -N with as many connections; target >= {BenchResults.WriteTarget:0.0}x");
        output.Table(
            ["IN FLIGHT", "SINGLE W/S", "P50 MS", "P99 MS", "GROUP W/S", "P50 MS", "P99 MS", "PGBENCH -N TPS", "SINGLE RATIO", "GROUP RATIO", "ERRORS", "TARGET"],
            results.Rows.Select(r => (IReadOnlyList<string>)
            [
                $"{r.InFlight:N0}", $"{r.SingleWritesPerSecond:N0}", $"{r.SingleP50Ms:0.00}", $"{r.SingleP99Ms:0.00}",
                $"{r.GroupWritesPerSecond:N0}", $"{r.GroupP50Ms:0.00}", $"{r.GroupP99Ms:0.00}", $"{r.PgbenchTps:N0}",
                $"{r.SingleRatio:0.00}x", $"{r.GroupRatio:0.00}x", $"{r.Errors:N0}", r.TargetMet ? "met" : "not met",
            ]));
    }

    private static LoopResult Median(List<LoopResult> runs) => runs.OrderBy(r => r.PerSecond).ElementAt(runs.Count / 2);
}
