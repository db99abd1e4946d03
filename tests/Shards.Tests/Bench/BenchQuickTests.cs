using Shards.Bench;
using Shards.Cli.Core;

namespace Shards.Tests.Bench;

/// <summary>
/// The CI smoke run of <c>shards bench --quick</c>, in-process against its own private PostgreSQL and silo process.
/// It proves the bench runs end to end and produces sane figures; it asserts no rate (2 shared cores vary too much).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class BenchQuickTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact(Timeout = 240_000)]
    public async Task The_quick_bench_runs_and_reports_non_zero_figures_and_plots()
    {
        var root = Path.Combine(Path.GetTempPath(), $"shards-bench-test-{Guid.NewGuid():N}");
        try
        {
            var options = BenchOptions.QuickRun(Path.Combine(root, "out")) with { WorkDirectory = Path.Combine(root, "work") };
            await using var context = new CliContext(json: true, connection: null, clusterId: null);

            var results = await new BenchSuite(context, options, "shards bench --quick").RunAsync(CancellationToken.None);

            output.WriteLine(CliOutput.ToJson(results with { Calls = [.. results.Calls.Select(c => c with { Cdf = [] })] }));
            Assert.Equal(options.Concurrency.Count * CallPathSuite.Workloads.Count, results.Calls.Count);
            Assert.All(results.Calls, c =>
            {
                Assert.True(c.Calls > 0 && c.CallsPerSecond > 0, $"{c.Workload} at {c.InFlight}: no call answered");
                Assert.True(c.P50Ms > 0 && c.P99Ms >= c.P50Ms, $"{c.Workload} at {c.InFlight}: p50 {c.P50Ms}, p99 {c.P99Ms}");
            });
            Assert.All(results.Ratios, r => Assert.True(r.Ratio > 0));
            var write = Assert.Single(results.Writes);
            Assert.True(write.WritesPerSecond > 0 && write.PgbenchTps > 0 && write.Ratio > 0);
            Assert.All(results.Memory, m => Assert.True(m.RssMbPerSilo > 10, $"RSS {m.RssMbPerSilo} MB"));
            Assert.Contains(results.Calls, c => c.CpuMsPer1000Calls > 0);
            Assert.Equal(options.ScalingKeySpaces.Count * options.ScalingSiloCounts.Count, results.Scaling.Count);
            Assert.All(results.Scaling, step =>
            {
                // On a busy machine the activation budget may run out: then the step says so and reports what it reached.
                Assert.True(
                    step.ActivatedKeys > 0 && step.ActivatedKeys <= step.KeySpace && (step.ActivatedKeys == step.KeySpace) == (step.ShortBecause is null) && step.ActivationErrors == 0,
                    $"{step.KeySpace}: {step.ActivatedKeys} active, {step.ShortBecause}");
                // Every key is one ping and one product activation, and none was collected during the reads.
                Assert.Equal(2L * step.ActivatedKeys, step.Activations);
                Assert.Equal(ScalingSuite.Workloads, step.Reads.Select(r => r.Workload));
                Assert.All(step.Reads, r => Assert.True(
                    r is { Calls: > 0, CallsPerSecond: > 0, Errors: 0, P50Ms: > 0, VsBare: > 0 } && r.P99Ms >= r.P50Ms, $"{step.KeySpace} keys, {r}"));
                Assert.True(step.IdleRssMbTotal > 10 && step.RssMbTotal > step.IdleRssMbTotal, $"RSS {step.IdleRssMbTotal} MB idle, {step.RssMbTotal} MB");
            });
            // Ten times the keys take more memory; the largest step's bytes per activation are within reason (0.1 to 100 KB).
            Assert.True(results.Scaling[^1].RssMbTotal > results.Scaling[0].RssMbTotal);
            Assert.InRange(results.Scaling[^1].BytesPerActivation!.Value, 100, 100_000);
            Assert.Contains("| keys active | activation s |", File.ReadAllText(Path.Combine(options.OutputDirectory, "results.md")));
            var http = Assert.IsType<HttpBenchResults>(results.Http);
            Assert.All(http.Runs, r => Assert.True(
                r is { Requests: > 0, RequestsPerSecond: > 0, Non2xx: 0, TransportErrors: 0, P50Ms: > 0, VsBare: > 0 } && r.P99Ms >= r.P50Ms, $"{r}"));
            // Every HTTP endpoint on every target that ran, and the cart add through the Orleans client on the direct target.
            Assert.Equal(
                ((HttpSuite.Targets.Count - http.Skipped.Count) * HttpEndpoints.All.Count(HttpEndpoints.IsHttp) + 1) * options.HttpConnections.Count, http.Runs.Count);
            Assert.All(http.Runs.Where(r => r.Endpoint == HttpEndpoints.Name(HttpEndpoint.GrainCartAdd)), r => Assert.Equal(HttpSuite.DirectTarget, r.Target));
            Assert.Contains("| target | conns | endpoint | req/s |", File.ReadAllText(Path.Combine(options.OutputDirectory, "results.md")));
            Assert.Equal(6, results.Plots.Count);
            Assert.Equal(3, results.Placement.Count);
            Assert.All(results.Placement, p => Assert.True(p.SpreadWith3 >= 1.0 && p.MovedOnJoin > 0, $"{p.Strategy}: spread {p.SpreadWith3}, moved {p.MovedOnJoin}"));
            var sharded = Assert.Single(results.ShardWrites);
            Assert.True(sharded is { Shards: 2, Servers: 2, Errors: 0 } && sharded.WritesPerSecond > 0 && sharded.PgbenchTps > 0, $"{sharded}");
            Assert.Contains("| shard dbs |", File.ReadAllText(Path.Combine(options.OutputDirectory, "results.md")));
            Assert.All(results.Plots, plot => Assert.True(new FileInfo(plot).Length > 1000, plot));
            Assert.False(Directory.Exists(Path.Combine(root, "work", "postgres")), "the private PostgreSQL was not deleted");
            Assert.False(Directory.Exists(Path.Combine(root, "work", "postgres-1")), "the second private PostgreSQL was not deleted");
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }
}
