using System.Diagnostics;
using Shards.Cli.Core;
using Shards.LocalCluster;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;

namespace Shards.Bench;

/// <summary>
/// <c>shards bench</c>: a private PostgreSQL and silos of its own, then side by side in one run: the call path (bare
/// ping grain vs product and cart reads, per silo count and concurrency), persisted writes (Shards vs pgbench -N on
/// the same server), memory and CPU, read throughput and memory by key space and silo count, and the HTTP path against its bare endpoint. Everything is stopped and deleted at the end, also on Ctrl+C.
/// </summary>
public sealed class BenchSuite(CliContext context, BenchOptions options, string command)
{
    private const string ServiceId = "shards";

    public async Task<BenchResults> RunAsync(CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        Directory.CreateDirectory(options.OutputDirectory);
        IReadOnlyList<PlacementRow> placement = [];
        if (options.Parts.HasFlag(BenchParts.Placement))
        {
            CliOutput.Status($"bench: placing {options.PlacementKeys:N0} keys with each placement director, 3 silos then 4 ...");
            placement = await PlacementSuite.RunAsync(options.PlacementKeys, cancellationToken);
        }

        if ((options.Parts & ~BenchParts.Placement) == 0)
        {
            var machineOnly = await MachineProbe.DescribeAsync(null, cancellationToken);
            return await FinishAsync(new BenchResults(
                startedAt, 0, options.Quick, command, machineOnly, [], [], [], [], null, [], placement, [], ""), watch, cancellationToken);
        }

        var root = Path.GetFullPath(options.WorkDirectory);
        var server = PrivatePostgresServer.Create(new PrivatePostgresOptions
        {
            Directory = Path.Combine(root, "postgres"),
            BinDirectory = context.PrivatePostgres.BinDirectory,
            Database = "shards",
        });
        try
        {
            await server.DestroyAsync(cancellationToken);
            CliOutput.Status("bench: starting a private PostgreSQL ...");
            var connectionString = await server.StartAsync(cancellationToken);
            server.DestroyWhenProcessExits(Environment.ProcessId); // even if this process is SIGKILLed (silos watch us too)
            var database = context.DataSources.For(connectionString);
            await new SchemaMigrator(database).ApplyAsync(cancellationToken);
            var machine = await MachineProbe.DescribeAsync(database, cancellationToken);
            var calls = new List<CallRun>();
            var writes = new List<WriteComparison>();
            var memory = new List<MemoryStep>();
            if (options.Parts.HasFlag(BenchParts.Calls))
            {
                await RunCallsAsync(connectionString, root, calls, writes, memory, cancellationToken);
            }

            IReadOnlyList<ShardWriteRun> shardWrites = [];
            if (options.Parts.HasFlag(BenchParts.ShardWrites))
            {
                shardWrites = await new ShardWriteSuite(context, options, connectionString, root).RunAsync(cancellationToken);
            }

            IReadOnlyList<ScalingStep> scaling = [];
            if (options.Parts.HasFlag(BenchParts.Scaling))
            {
                CliOutput.Status($"bench: scaling: key spaces {string.Join(", ", options.ScalingKeySpaces.Select(k => k.ToString("N0")))} on {string.Join(", ", options.ScalingSiloCounts)} silo(s), {ProcessMeter.AvailableMemoryMb():N0} MB available ...");
                scaling = await new ScalingSuite(options, connectionString, root).RunAsync(cancellationToken);
            }

            HttpBenchResults? http = null;
            if (options.Parts.HasFlag(BenchParts.Http))
            {
                http = await new HttpSuite(context, options, connectionString, root).RunAsync(cancellationToken);
            }

            return await FinishAsync(
                new BenchResults(
                    startedAt, 0, options.Quick, command, machine, calls, CallPathSuite.Ratios(calls), writes, memory,
                    memory.Count > 0 ? CostSuite.RssPer1000Grains(memory, options.SiloCounts[0]) : null, [], placement, shardWrites, "")
                {
                    Scaling = scaling,
                    Http = http,
                },
                watch,
                cancellationToken);
        }
        finally
        {
            CliOutput.Status("bench: cleaning up: silos are stopped, PostgreSQL is stopped and deleted ...");
            await server.DestroyAsync(CancellationToken.None);
        }
    }

    /// <summary>The call path per silo count, then persisted writes vs pgbench and memory on the first silo count.</summary>
    private async Task RunCallsAsync(
        string connectionString, string root, List<CallRun> calls, List<WriteComparison> writes, List<MemoryStep> memory, CancellationToken cancellationToken)
    {
        var seeded = false;
        foreach (var silos in options.SiloCounts)
        {
            await using var launcher = new ClusterLauncher(
                new LauncherOptions
                {
                    SiloCount = silos,
                    ConnectionString = connectionString,
                    ClusterId = $"bench-{silos}",
                    ServiceId = ServiceId,
                    RestartCrashedSilos = false,
                    LogDirectory = Path.Combine(root, "logs"),
                },
                message => CliOutput.Status("bench:   " + message));
            CliOutput.Status($"bench: starting {silos} silo(s) ...");
            await launcher.StartAsync(cancellationToken);
            await using var client = new CliContext(true, connectionString, $"bench-{silos}", context.DataSources);
            var grains = await client.ConnectAsync(cancellationToken);
            var pids = launcher.Silos.Select(s => s.Pid ?? 0).Where(p => p > 0).ToList();
            memory.Add(new MemoryStep(silos, 0, CostSuite.AverageRss(pids)));
            if (silos == options.SiloCounts[0])
            {
                memory.AddRange(await CostSuite.ActivationAsync(grains, options, silos, pids, cancellationToken));
            }

            if (!seeded)
            {
                CliOutput.Status($"bench: seeding {options.Keys} products and {options.Keys} carts ...");
                var seeder = new StoreSeeder(grains, options.Keys, options.Keys);
                await seeder.SeedProductsAsync(null, cancellationToken);
                await seeder.SeedCartsAsync(null, cancellationToken);
                seeded = true;
            }

            calls.AddRange(await CallPathSuite.RunAsync(grains, options, silos, [.. pids, Environment.ProcessId], cancellationToken));
            if (silos == options.SiloCounts[0])
            {
                writes.AddRange(await WriteSuite.RunAsync(grains, options, context.DataSources, connectionString, cancellationToken));
            }
        }
    }

    /// <summary>Plots, the elapsed time, the load average at the end, results.json and the markdown tables.</summary>
    private async Task<BenchResults> FinishAsync(BenchResults results, Stopwatch watch, CancellationToken cancellationToken)
    {
        var plots = BenchPlotter.Write(results, options.OutputDirectory);
        results = results with { ElapsedSeconds = watch.Elapsed.TotalSeconds, Plots = plots, LoadAverageAtEnd = MachineProbe.LoadAverage() };
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "results.json"), CliOutput.ToJson(results), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "results.md"), BenchReportText.Markdown(results), cancellationToken);
        return results;
    }
}
