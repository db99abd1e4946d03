using System.Globalization;
using Shards.Client.Cli;

namespace Shards.Client.Bench;

/// <summary>The bench's tables for people (markdown-friendly: docs/BENCHMARKS.md quotes them).</summary>
public static class BenchReportText
{
    public static void Print(CliOutput output, BenchResults results)
    {
        var m = results.Machine;
        output.Line($"Machine: {m.Cores} cores, {m.MemoryGb:0.0} GB, Linux {m.Kernel}, .NET {m.DotnetVersion}, PostgreSQL {m.PostgresVersion}, Orleans {m.OrleansVersion}; load average {m.LoadAverageAtStart} at the start");
        output.Line($"Command: {results.Command}   ({results.ElapsedSeconds:0} s{(results.Quick ? ", quick smoke run: figures are indicative only" : "")})");
        output.Line();
        output.Line($"Call path: calls/s through AddShardsClient, closed loop, {results.Calls.Select(c => c.Seconds).DefaultIfEmpty(0).Max():0.0} s per workload and level in rounds of rotated order (calls/s: the median round); target: Shards reads >= {BenchResults.ReadTarget:P0} of the bare grain");
        output.Table(
            ["SILOS", "IN FLIGHT", "WORKLOAD", "CALLS/S", "P50 MS", "P99 MS", "CPU MS/1K CALLS", "ERRORS", "VS BARE", "TARGET"],
            results.Calls.Select(c =>
            {
                var ratio = results.Ratios.SingleOrDefault(r => r.Workload == c.Workload && r.Silos == c.Silos && r.InFlight == c.InFlight);
                return (IReadOnlyList<string>)
                [
                    N(c.Silos), N(c.InFlight), c.Workload, N(c.CallsPerSecond), F(c.P50Ms), F(c.P99Ms), F(c.CpuMsPer1000Calls, "0"), N(c.Errors),
                    ratio is null ? "1.00x" : $"{ratio.Ratio:0.00}x", ratio is null ? "-" : ratio.TargetMet ? "met" : "not met",
                ];
            }));
        output.Line();
        output.Line($"Persisted writes: ProductGrain.UpsertAsync on the seeded products (acknowledged after PostgreSQL stored it) vs pgbench -N, same server, same connections; target >= {BenchResults.WriteTarget:0.0}x pgbench");
        output.Table(
            ["IN FLIGHT", "SHARDS WRITES/S", "P50 MS", "P99 MS", "ERRORS", "PGBENCH -N TPS", "RATIO", "TARGET"],
            results.Writes.Select(w => (IReadOnlyList<string>)
            [
                N(w.InFlight), N(w.WritesPerSecond), F(w.WriteP50Ms), F(w.WriteP99Ms), N(w.Errors), N(w.PgbenchTps), $"{w.Ratio:0.00}x", w.TargetMet ? "met" : "not met",
            ]));
        output.Line();
        output.Line("Memory: VmRSS per silo (average over the silos)");
        output.Table(
            ["SILOS", "ACTIVE GRAINS", "RSS MB PER SILO"],
            results.Memory.Select(s => (IReadOnlyList<string>)[N(s.Silos), s.ActiveGrains == 0 ? "idle (just started)" : N(s.ActiveGrains), F(s.RssMbPerSilo, "0.0")]));
        if (results.RssMbPer1000Grains is { } per1000)
        {
            output.Line($"  {per1000:0.00} MB per 1,000 active product grains (from idle to the last step)");
        }

        if (results.Plots.Count > 0)
        {
            output.Line();
            output.Line("Plots: " + string.Join(", ", results.Plots));
        }
    }

    private static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value, string format = "0.00") => value.ToString(format, CultureInfo.InvariantCulture);
}
