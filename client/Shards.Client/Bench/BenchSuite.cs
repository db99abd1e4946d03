using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Npgsql;
using Shards.Client.Cli;
using Shards.Client.Demo;
using Shards.Client.Launcher;
using Shards.Client.Load;
using Shards.Contracts.Benchmarks;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Hosting.Database;
using Shards.Hosting.Options;
using Shards.Hosting.Processes;

namespace Shards.Client.Bench;

/// <summary>
/// <c>shards bench</c>: a private PostgreSQL and silos of its own, then side by side in one run: the call path (bare
/// ping grain vs product and cart reads, per silo count and concurrency), persisted writes (Shards vs pgbench -N on
/// the same server), memory and CPU. Everything is stopped and deleted at the end, also on Ctrl+C.
/// </summary>
public sealed class BenchSuite(CliContext context, BenchOptions options, string command)
{
    private const string ServiceId = "shards";
    private readonly List<CallRun> _calls = [];
    private readonly List<WriteComparison> _writes = [];
    private readonly List<MemoryStep> _memory = [];

    public static readonly string[] Workloads = ["bare ping", "product read", "cart read"];

    public async Task<BenchResults> RunAsync(CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
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
            await SchemaMigrator.ApplyAsync(connectionString, cancellationToken);
            var machine = await DescribeMachineAsync(connectionString, cancellationToken);
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
                await using var client = new CliContext(true, connectionString, $"bench-{silos}");
                var grains = await client.ConnectAsync(cancellationToken);
                var pids = launcher.Silos.Select(s => s.Pid ?? 0).Where(p => p > 0).ToList();
                _memory.Add(new MemoryStep(silos, 0, AverageRss(pids)));
                if (silos == options.SiloCounts[0])
                {
                    await MeasureActivationMemoryAsync(grains, silos, pids, cancellationToken);
                }

                if (!seeded)
                {
                    CliOutput.Status($"bench: seeding {options.Keys} products and {options.Keys} carts ...");
                    var seeder = new StoreSeeder(grains, options.Keys, options.Keys);
                    await seeder.SeedProductsAsync(null, cancellationToken);
                    await seeder.SeedCartsAsync(null, cancellationToken);
                    seeded = true;
                }

                await MeasureCallPathAsync(grains, silos, [.. pids, Environment.ProcessId], cancellationToken);
                if (silos == options.SiloCounts[0])
                {
                    await MeasureWritesAsync(grains, connectionString, cancellationToken);
                }
            }

            var results = new BenchResults(
                startedAt, 0, options.Quick, command, machine, _calls, Ratios(), _writes, _memory, RssPer1000Grains(), []);
            var plots = BenchPlotter.Write(results, options.OutputDirectory);
            results = results with { ElapsedSeconds = watch.Elapsed.TotalSeconds, Plots = plots };
            await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "results.json"), CliOutput.ToJson(results), cancellationToken);
            return results;
        }
        finally
        {
            CliOutput.Status("bench: cleaning up: silos are stopped, PostgreSQL is stopped and deleted ...");
            await server.DestroyAsync(CancellationToken.None);
        }
    }

    private async Task MeasureActivationMemoryAsync(IGrainFactory grains, int silos, IReadOnlyList<int> pids, CancellationToken cancellationToken)
    {
        var activated = 0;
        foreach (var step in options.ActivationSteps)
        {
            CliOutput.Status($"bench: activating product grains up to {step} (empty state, one storage read each) ...");
            await Parallel.ForEachAsync(
                Enumerable.Range(activated, step - activated),
                new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
                async (i, _) => await grains.GetGrain<IProductGrain>($"mem-{i:D6}").GetAsync());
            activated = step;
            _memory.Add(new MemoryStep(silos, step, AverageRss(pids)));
        }
    }

    private async Task MeasureCallPathAsync(IGrainFactory grains, int silos, IReadOnlyList<int> pids, CancellationToken cancellationToken)
    {
        var pings = Enumerable.Range(1, options.Keys).Select(i => grains.GetGrain<IPingGrain>($"ping-{i:D5}")).ToArray();
        var products = Enumerable.Range(1, options.Keys).Select(i => grains.GetGrain<IProductGrain>(StoreSeeder.Sku(i))).ToArray();
        var carts = Enumerable.Range(1, options.Keys).Select(i => grains.GetGrain<ICartGrain>(StoreSeeder.CartId(i))).ToArray();
        Func<int, Task>[] calls = [key => pings[key].PingAsync(key), key => products[key].GetAsync(), key => carts[key].GetAsync()];

        // Activate every grain once, so the runs measure calls, not activations.
        CliOutput.Status($"bench: {silos} silo(s): activating {3 * options.Keys} grains ...");
        await Parallel.ForEachAsync(Enumerable.Range(0, options.Keys), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
            async (key, _) =>
            {
                foreach (var call in calls)
                {
                    await call(key);
                }
            });

        // Warm every path (JIT, connection pools, thread pool) at the highest level before anything is measured:
        // otherwise whichever workload runs first pays for it.
        foreach (var call in calls)
        {
            await ClosedLoop.RunAsync(options.Concurrency.Max(), options.Warmup * 2, TimeSpan.Zero, call, options.Keys, [], cancellationToken);
        }

        foreach (var inFlight in options.Concurrency)
        {
            var rounds = Enumerable.Range(0, Workloads.Length).Select(_ => new List<LoopResult>()).ToArray();
            var latencies = Enumerable.Range(0, Workloads.Length).Select(_ => new LatencyRecorder()).ToArray();
            var slice = options.Duration / options.Rounds;
            for (var round = 0; round < options.Rounds; round++)
            {
                for (var i = 0; i < Workloads.Length; i++)
                {
                    var w = (i + round) % Workloads.Length;
                    rounds[w].Add(await ClosedLoop.RunAsync(inFlight, options.Warmup, slice, calls[w], options.Keys, pids, cancellationToken, latencies[w]));
                }
            }

            for (var w = 0; w < Workloads.Length; w++)
            {
                var runs = rounds[w];
                var measured = runs.Sum(r => r.Calls);
                var rates = runs.Select(r => r.PerSecond).Order().ToList();
                var run = new CallRun(
                    Workloads[w], silos, inFlight, measured, runs.Sum(r => r.Errors), runs.Sum(r => r.Seconds), rates[rates.Count / 2],
                    latencies[w].PercentileMs(50) ?? 0, latencies[w].PercentileMs(99) ?? 0,
                    measured == 0 ? 0 : runs.Sum(r => r.CpuMs) / measured * 1000, runs[^1].Cdf());
                _calls.Add(run);
                CliOutput.Status($"bench: {silos} silo(s), {inFlight,3} in flight, {run.Workload,-12} {run.CallsPerSecond,9:N0} calls/s  p50 {run.P50Ms:0.00} ms  p99 {run.P99Ms:0.00} ms");
            }
        }
    }

    private async Task MeasureWritesAsync(IGrainFactory grains, string connectionString, CancellationToken cancellationToken)
    {
        var pgbench = new Pgbench(connectionString);
        CliOutput.Status("bench: pgbench -i on database 'pgbench' of the same server ...");
        await pgbench.InitialiseAsync(cancellationToken);
        var products = Enumerable.Range(1, options.Keys).Select(i => grains.GetGrain<IProductGrain>(StoreSeeder.Sku(i))).ToArray();
        var version = 0;
        foreach (var inFlight in options.WriteConcurrency)
        {
            var loop = await ClosedLoop.RunAsync(
                inFlight, options.Warmup, options.WriteDuration,
                key => products[key].UpsertAsync(new ProductDefinition($"Product {key + 1}", 9.99m, 100 + (Interlocked.Increment(ref version) % 50))),
                options.Keys, [], cancellationToken);
            CliOutput.Status($"bench: {inFlight} writes in flight: {loop.PerSecond:N0} acknowledged writes/s; now {Pgbench.Describe(inFlight, options.WriteDuration)} ...");
            var tps = await pgbench.SimpleUpdateTpsAsync(inFlight, options.WriteDuration, cancellationToken);
            var ratio = tps > 0 ? loop.PerSecond / tps : 0;
            _writes.Add(new WriteComparison(
                inFlight, loop.Calls, loop.Errors, loop.PerSecond, loop.Latency.PercentileMs(50) ?? 0, loop.Latency.PercentileMs(99) ?? 0,
                tps, ratio, ratio >= BenchResults.WriteTarget));
        }
    }

    private List<CallRatio> Ratios() =>
        _calls.Where(c => c.Workload != Workloads[0])
            .Select(c =>
            {
                var bare = _calls.Single(b => b.Workload == Workloads[0] && b.Silos == c.Silos && b.InFlight == c.InFlight);
                var ratio = bare.CallsPerSecond > 0 ? c.CallsPerSecond / bare.CallsPerSecond : 0;
                return new CallRatio(c.Workload, c.Silos, c.InFlight, ratio, ratio >= BenchResults.ReadTarget);
            })
            .ToList();

    private double? RssPer1000Grains()
    {
        var steps = _memory.Where(m => m.Silos == options.SiloCounts[0]).OrderBy(m => m.ActiveGrains).ToList();
        return steps.Count < 2 ? null : (steps[^1].RssMbPerSilo - steps[0].RssMbPerSilo) / (steps[^1].ActiveGrains / 1000.0);
    }

    private static double AverageRss(IReadOnlyList<int> pids) =>
        pids.Select(ProcessMeter.RssMb).Where(r => r is not null).Select(r => r!.Value).DefaultIfEmpty(0).Average();

    private static async Task<BenchMachine> DescribeMachineAsync(string connectionString, CancellationToken cancellationToken)
    {
        var memoryKb = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : RuntimeInformation.OSDescription;
        string dotnet;
        try
        {
            var sdk = await ProcessRunner.RunAsync("dotnet", ["--version"], TimeSpan.FromSeconds(20), cancellationToken);
            dotnet = sdk.Succeeded ? $"SDK {sdk.StandardOutput.Trim()}, runtime {Environment.Version}" : $"runtime {Environment.Version}";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            dotnet = $"runtime {Environment.Version}";
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var query = new NpgsqlCommand("SHOW server_version", connection);
        var postgres = (string)(await query.ExecuteScalarAsync(cancellationToken))!;
        var orleans = typeof(IGrainFactory).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+', ' ')[0].TrimEnd('.') ?? "?";
        return new BenchMachine(Environment.ProcessorCount, long.Parse(memoryKb, System.Globalization.CultureInfo.InvariantCulture) / 1024.0 / 1024.0, kernel, dotnet, postgres, orleans,
            string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)));
    }
}
