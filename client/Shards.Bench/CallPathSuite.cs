using Shards.Cli.Core;
using Shards.Contracts.Benchmarks;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Load;

namespace Shards.Bench;

/// <summary>
/// The call path: a bare ping grain against Shards' product and cart reads, through the same client, at each
/// concurrency level. Each level runs in rounds in which the three workloads take turns in a rotated order, so drift
/// and neighbours' bursts on shared cores hit each of them alike; calls/s is the median round.
/// </summary>
public static class CallPathSuite
{
    public static readonly IReadOnlyList<string> Workloads = ["bare ping", "product read", "cart read"];

    /// <summary>Each Shards read against the bare grain at the same silos and concurrency.</summary>
    public static IReadOnlyList<CallRatio> Ratios(IReadOnlyList<CallRun> calls) =>
        calls.Where(c => c.Workload != Workloads[0])
            .Select(c =>
            {
                var bare = calls.Single(b => b.Workload == Workloads[0] && b.Silos == c.Silos && b.InFlight == c.InFlight);
                var ratio = bare.CallsPerSecond > 0 ? c.CallsPerSecond / bare.CallsPerSecond : 0;
                return new CallRatio(c.Workload, c.Silos, c.InFlight, ratio, ratio >= BenchResults.ReadTarget);
            })
            .ToList();

    public static async Task<IReadOnlyList<CallRun>> RunAsync(
        IGrainFactory grains, BenchOptions options, int silos, IReadOnlyList<int> pids, CancellationToken cancellationToken)
    {
        var results = new List<CallRun>();
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
            var rounds = Enumerable.Range(0, Workloads.Count).Select(_ => new List<LoopResult>()).ToArray();
            var latencies = Enumerable.Range(0, Workloads.Count).Select(_ => new LatencyRecorder()).ToArray();
            var slice = options.Duration / options.Rounds;
            for (var round = 0; round < options.Rounds; round++)
            {
                for (var i = 0; i < Workloads.Count; i++)
                {
                    var w = (i + round) % Workloads.Count;
                    rounds[w].Add(await ClosedLoop.RunAsync(inFlight, options.Warmup, slice, calls[w], options.Keys, pids, cancellationToken, latencies[w]));
                }
            }

            for (var w = 0; w < Workloads.Count; w++)
            {
                var runs = rounds[w];
                var measured = runs.Sum(r => r.Calls);
                var rates = runs.Select(r => r.PerSecond).Order().ToList();
                var run = new CallRun(
                    Workloads[w], silos, inFlight, measured, runs.Sum(r => r.Errors), runs.Sum(r => r.Seconds), rates[rates.Count / 2],
                    latencies[w].PercentileMs(50) ?? 0, latencies[w].PercentileMs(99) ?? 0,
                    measured == 0 ? 0 : runs.Sum(r => r.CpuMs) / measured * 1000, runs[^1].Cdf());
                results.Add(run);
                CliOutput.Status($"bench: {silos} silo(s), {inFlight,3} in flight, {run.Workload,-12} {run.CallsPerSecond,9:N0} calls/s  p50 {run.P50Ms:0.00} ms  p99 {run.P99Ms:0.00} ms");
            }
        }

        return results;
    }
}
