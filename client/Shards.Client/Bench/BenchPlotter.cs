using ScottPlot;

namespace Shards.Client.Bench;

/// <summary>The bench's PNGs (ScottPlot, rendered headless through Skia). The only class that knows ScottPlot.</summary>
public static class BenchPlotter
{
    private const int Width = 900;
    private const int Height = 520;
    private static readonly Color[] s_colors = [Colors.Gray, Colors.RoyalBlue, Colors.DarkOrange];

    /// <summary>Writes throughput.png and latency-cdf.png into <paramref name="directory"/>; their paths.</summary>
    public static IReadOnlyList<string> Write(BenchResults results, string directory)
    {
        Directory.CreateDirectory(directory);
        var throughput = Path.Combine(directory, "throughput.png");
        var cdf = Path.Combine(directory, "latency-cdf.png");
        Throughput(results).SavePng(throughput, Width, Height);
        LatencyCdf(results).SavePng(cdf, Width, Height);
        return [throughput, cdf];
    }

    private static Plot Throughput(BenchResults results)
    {
        var plot = new Plot();
        var levels = results.Calls.Select(c => c.InFlight).Distinct().Order().ToArray();
        foreach (var silos in results.Calls.Select(c => c.Silos).Distinct().Order())
        {
            for (var w = 0; w < CallPathSuite.Workloads.Count; w++)
            {
                var runs = results.Calls.Where(c => c.Silos == silos && c.Workload == CallPathSuite.Workloads[w]).OrderBy(c => c.InFlight).ToList();
                var line = plot.Add.Scatter(
                    runs.Select(r => Math.Log2(r.InFlight)).ToArray(), runs.Select(r => r.CallsPerSecond).ToArray(), s_colors[w]);
                line.LegendText = $"{CallPathSuite.Workloads[w]}, {silos} silo{(silos == 1 ? "" : "s")}";
                line.LineWidth = 2;
                line.MarkerSize = 7;
                line.LinePattern = silos == 1 ? LinePattern.Solid : LinePattern.Dashed;
            }
        }

        plot.Axes.Bottom.SetTicks(levels.Select(l => Math.Log2(l)).ToArray(), levels.Select(l => $"{l}").ToArray());
        plot.Title("Throughput vs calls in flight (higher is better)");
        plot.XLabel("calls in flight (closed loop)");
        plot.YLabel("calls per second");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Axes.AutoScale();
        var top = results.Calls.Select(c => c.CallsPerSecond).DefaultIfEmpty(1).Max();
        plot.Axes.SetLimitsY(0, top * 1.15);
        return plot;
    }

    /// <summary>CDF at the highest common concurrency level, x on a log scale of milliseconds.</summary>
    private static Plot LatencyCdf(BenchResults results)
    {
        var plot = new Plot();
        var level = results.Calls.Where(c => c.InFlight <= 64).Select(c => c.InFlight).DefaultIfEmpty(1).Max();
        foreach (var silos in results.Calls.Select(c => c.Silos).Distinct().Order())
        {
            for (var w = 0; w < CallPathSuite.Workloads.Count; w++)
            {
                var run = results.Calls.FirstOrDefault(c => c.Silos == silos && c.InFlight == level && c.Workload == CallPathSuite.Workloads[w]);
                if (run is null || run.Cdf.Count == 0)
                {
                    continue;
                }

                var line = plot.Add.Scatter(
                    run.Cdf.Select(p => Math.Log10(Math.Max(0.01, p.Ms))).ToArray(), run.Cdf.Select(p => p.Percentile).ToArray(), s_colors[w]);
                line.LegendText = $"{CallPathSuite.Workloads[w]}, {silos} silo{(silos == 1 ? "" : "s")}";
                line.LineWidth = 2;
                line.MarkerSize = 0;
                line.LinePattern = silos == 1 ? LinePattern.Solid : LinePattern.Dashed;
            }
        }

        double[] ticks = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000];
        plot.Axes.Bottom.SetTicks(ticks.Select(Math.Log10).ToArray(), ticks.Select(t => $"{t:0.##}").ToArray());
        plot.Title($"Latency CDF at {level} calls in flight (left is better)");
        plot.XLabel("latency, ms (log scale)");
        plot.YLabel("percent of calls at most this slow");
        plot.ShowLegend(Alignment.LowerRight);
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, 101);
        return plot;
    }
}
