using System.Diagnostics;
using Shards.Cli.Core;
using Shards.Client;
using Shards.Contracts.Benchmarks;
using Shards.Contracts.Catalog;
using Shards.Load;
using Shards.LocalCluster;

namespace Shards.Bench;

/// <summary>
/// Scaling: for each silo count a fresh cluster; the key space grows step by step (10^3 .. 10^6). Each step activates
/// its new keys, a bare ping grain and a product grain per key (a product <c>GetAsync</c> on a SKU no one created:
/// the activation reads its empty state from PostgreSQL, the read answers "no such product" from memory), with
/// <see cref="BenchOptions.ScalingActivationInFlight"/> in flight, until the key space, the silo count's time budget or
/// the memory reserve is reached; then closed-loop reads of both workloads over keys drawn uniformly from the
/// activated keys, in rotated rounds; then RSS and Orleans' activation counts per silo.
/// </summary>
public sealed class ScalingSuite(BenchOptions options, string connectionString, string workDirectory)
{
    public static readonly IReadOnlyList<string> Workloads = [CallPathSuite.Workloads[0], CallPathSuite.Workloads[1]];

    /// <summary>The key of the i-th ping grain and of the i-th product (a valid SKU that no product has).</summary>
    public static string Key(int i) => $"scale-{i:D7}";

    public async Task<IReadOnlyList<ScalingStep>> RunAsync(CancellationToken cancellationToken)
    {
        var steps = new List<ScalingStep>();
        foreach (var silos in options.ScalingSiloCounts)
        {
            steps.AddRange(await RunClusterAsync(silos, cancellationToken));
        }

        return steps;
    }

    private async Task<IReadOnlyList<ScalingStep>> RunClusterAsync(int silos, CancellationToken cancellationToken)
    {
        await using var launcher = new ClusterLauncher(
            new LauncherOptions
            {
                SiloCount = silos,
                ConnectionString = connectionString,
                ClusterId = $"bench-scale-{silos}",
                ServiceId = $"bench-scale-{silos}",
                RestartCrashedSilos = false,
                LogDirectory = Path.Combine(workDirectory, "logs"),
            },
            message => CliOutput.Status("bench:   " + message));
        CliOutput.Status($"bench: scaling: starting {silos} silo(s) ...");
        await launcher.StartAsync(cancellationToken);
        await using var client = new CliContext(true, connectionString, $"bench-scale-{silos}");
        var grains = await client.ConnectAsync(cancellationToken);
        var pids = launcher.Silos.Select(s => s.Pid ?? 0).ToList();
        var idle = pids.Select(pid => ProcessMeter.RssMb(pid) ?? 0).ToList();
        Func<int, Task>[] calls = [key => grains.GetGrain<IPingGrain>(Key(key)).PingAsync(key), key => grains.GetGrain<IProductGrain>(Key(key)).GetAsync()];

        var steps = new List<ScalingStep>();
        var budgetEnds = Stopwatch.GetTimestamp() + (long)(options.ScalingActivationBudget.TotalSeconds * Stopwatch.Frequency);
        var active = 0;
        double? mbPerKey = null;
        foreach (var keySpace in options.ScalingKeySpaces)
        {
            var target = ScalingMemory.KeysThatFit(active, keySpace, ProcessMeter.AvailableMemoryMb(), options.ScalingMemoryReserveMb, mbPerKey);
            CliOutput.Status($"bench: scaling: {silos} silo(s): activating keys {active:N0} to {target:N0} (a ping and a product grain each) ...");
            var watch = Stopwatch.StartNew();
            var activation = await ActivateAsync(calls, active, target, budgetEnds, cancellationToken);
            var seconds = watch.Elapsed.TotalSeconds;
            var reached = activation.Reached;
            var shortBecause = reached == keySpace ? null
                : target < keySpace && reached == target ? $"memory: MemAvailable would have gone below the {options.ScalingMemoryReserveMb:N0} MB reserve"
                : activation.MemoryLow ? $"memory: MemAvailable fell below the {options.ScalingMemoryReserveMb:N0} MB reserve"
                : $"time: the {options.ScalingActivationBudget.TotalSeconds:0} s activation budget of {silos} silo(s) ran out";
            CliOutput.Status($"bench: scaling: {silos} silo(s): {reached:N0} keys active ({(reached - active) / Math.Max(seconds, 0.001):N0} keys/s){(shortBecause is null ? "" : $", short of {keySpace:N0}: {shortBecause}")}");
            active = reached;
            if (active == 0)
            {
                break;
            }

            if (steps.Count == 0)
            {
                // Warm both paths (JIT, pools) before the first measured step, as the call path does.
                foreach (var call in calls)
                {
                    await ClosedLoop.RunAsync(options.ScalingInFlight, options.Warmup * 2, TimeSpan.Zero, call, active, [], cancellationToken);
                }
            }

            var reads = await ReadAsync(calls, active, [.. pids, Environment.ProcessId], cancellationToken);
            var perSilo = await MemoryAsync(grains, launcher, idle, cancellationToken);
            var step = new ScalingStep(
                silos, keySpace, active, shortBecause, seconds, options.ScalingActivationInFlight, activation.Errors, reads, perSilo,
                perSilo.Sum(s => s.IdleRssMb), perSilo.Sum(s => s.RssMb), ScalingMemory.BytesPerActivation(perSilo));
            steps.Add(step);
            mbPerKey = (step.RssMbTotal - step.IdleRssMbTotal) / active;
            CliOutput.Status(
                $"bench: scaling: {silos} silo(s), {active,9:N0} keys: " + string.Join("  ", reads.Select(r => $"{r.Workload} {r.CallsPerSecond:N0} calls/s")) +
                $"  RSS {step.RssMbTotal:N0} MB, {step.BytesPerActivation ?? 0:N0} bytes per activation");
            if (shortBecause is not null)
            {
                break;
            }
        }

        return steps;
    }

    /// <summary>What an activation pass reached: keys [from, Reached) all answered (or failed: <see cref="Errors"/>).</summary>
    private sealed record Activation(int Reached, long Errors, bool MemoryLow);

    /// <summary>
    /// Activates keys from <paramref name="from"/> up to <paramref name="to"/> in order, each worker claiming the next
    /// key; stops claiming when the budget ends or MemAvailable falls below the reserve, so the activated keys stay one
    /// contiguous range (every claimed key is awaited).
    /// </summary>
    private async Task<Activation> ActivateAsync(Func<int, Task>[] calls, int from, int to, long budgetEnds, CancellationToken cancellationToken)
    {
        var next = from - 1;
        long errors = 0;
        var stop = false;
        var memoryLow = false;
        var workers = Enumerable.Range(0, options.ScalingActivationInFlight).Select(_ => Task.Run(async () =>
        {
            while (!Volatile.Read(ref stop) && !cancellationToken.IsCancellationRequested)
            {
                if (Stopwatch.GetTimestamp() > budgetEnds)
                {
                    Volatile.Write(ref stop, true);
                    break;
                }

                var key = Interlocked.Increment(ref next);
                if (key >= to)
                {
                    break;
                }

                if (key % 4096 == 0 && ProcessMeter.AvailableMemoryMb() < options.ScalingMemoryReserveMb)
                {
                    memoryLow = true;
                    Volatile.Write(ref stop, true);
                }

                await Task.WhenAll(calls.Select(async call =>
                {
                    try
                    {
                        await call(key);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }));
            }
        }, cancellationToken));
        await Task.WhenAll(workers);
        cancellationToken.ThrowIfCancellationRequested();
        return new Activation(Math.Min(Volatile.Read(ref next) + 1, to), errors, memoryLow);
    }

    /// <summary>Both workloads over keys [0, active), <see cref="BenchOptions.Rounds"/> rounds in rotated order.</summary>
    private async Task<IReadOnlyList<ScalingRead>> ReadAsync(Func<int, Task>[] calls, int active, IReadOnlyList<int> pids, CancellationToken cancellationToken)
    {
        var rounds = calls.Select(_ => new List<LoopResult>()).ToArray();
        var latencies = calls.Select(_ => new LatencyRecorder()).ToArray();
        var slice = options.ScalingDuration / options.Rounds;
        for (var round = 0; round < options.Rounds; round++)
        {
            for (var i = 0; i < calls.Length; i++)
            {
                var w = (i + round) % calls.Length;
                rounds[w].Add(await ClosedLoop.RunAsync(options.ScalingInFlight, options.Warmup, slice, calls[w], active, pids, cancellationToken, latencies[w]));
            }
        }

        var rates = rounds.Select(runs => runs.Select(r => r.PerSecond).Order().ToList()[runs.Count / 2]).ToArray();
        return [.. Enumerable.Range(0, calls.Length).Select(w => new ScalingRead(
            Workloads[w], options.ScalingInFlight, rounds[w].Sum(r => r.Calls), rounds[w].Sum(r => r.Errors), rounds[w].Sum(r => r.Seconds), rates[w],
            latencies[w].PercentileMs(50) ?? 0, latencies[w].PercentileMs(99) ?? 0, rates[0] > 0 ? rates[w] / rates[0] : 0))];
    }

    /// <summary>RSS and Orleans' activation counts (ping and product grains) per silo, matched by silo port.</summary>
    private static async Task<IReadOnlyList<ScalingSilo>> MemoryAsync(
        IGrainFactory grains, ClusterLauncher launcher, IReadOnlyList<double> idle, CancellationToken cancellationToken)
    {
        var counts = await GrainActivationCounts.ReadAsync(grains);
        cancellationToken.ThrowIfCancellationRequested();
        return [.. launcher.Silos.Select((silo, i) =>
        {
            var activations = counts.Where(c => c.Silo.Endpoint.Port == silo.SiloPort && c.Grain is "ping" or "product").Sum(c => c.Count);
            var rss = silo.Pid is { } pid ? ProcessMeter.RssMb(pid) ?? 0 : 0;
            return new ScalingSilo(silo.Name, activations, idle[i], rss, ScalingMemory.BytesPerActivation(idle[i], rss, activations));
        })];
    }
}
