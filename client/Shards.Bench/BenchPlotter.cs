using ScottPlot;

namespace Shards.Bench;

/// <summary>The bench's PNGs (ScottPlot, rendered headless through Skia); the HTTP suite's are drawn by <see cref="HttpPlotter"/>.</summary>
public static class BenchPlotter
{
    private const int Width = 900;
    private const int Height = 520;
    private static readonly Color[] s_colors = [Colors.Gray, Colors.RoyalBlue, Colors.DarkOrange];

    private static readonly LinePattern[] s_siloPatterns = [LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted];

    /// <summary>
    /// Writes throughput.png and latency-cdf.png (when the call path ran) and scaling-throughput.png and
    /// scaling-memory.png (when the scaling suite ran) into <paramref name="directory"/>; their paths.
    /// </summary>
    public static IReadOnlyList<string> Write(BenchResults results, string directory)
    {
        var plots = new List<string>();
        Directory.CreateDirectory(directory);
        if (results.Calls.Count > 0)
        {
            var throughput = Path.Combine(directory, "throughput.png");
            var cdf = Path.Combine(directory, "latency-cdf.png");
            Throughput(results).SavePng(throughput, Width, Height);
            LatencyCdf(results).SavePng(cdf, Width, Height);
            plots.AddRange([throughput, cdf]);
        }

        if (results.Scaling.Count > 0)
        {
            var throughput = Path.Combine(directory, "scaling-throughput.png");
            var memory = Path.Combine(directory, "scaling-memory.png");
            ScalingThroughput(results.Scaling).SavePng(throughput, Width, Height);
            ScalingMemoryPlot(results.Scaling).SavePng(memory, Width, Height);
            plots.AddRange([throughput, memory]);
        }

        if (results.Http is { } http)
        {
            plots.AddRange(HttpPlotter.Write(http, directory));
        }

        return plots;
    }

    /// <summary>Calls/s of each workload vs active keys (log scale), one line per workload and silo count.</summary>
    private static Plot ScalingThroughput(IReadOnlyList<ScalingStep> steps)
    {
        var plot = new Plot();
        var silosCounts = steps.Select(s => s.Silos).Distinct().Order().ToList();
        foreach (var silos in silosCounts)
        {
            var runs = steps.Where(s => s.Silos == silos).OrderBy(s => s.ActivatedKeys).ToList();
            for (var w = 0; w < ScalingSuite.Workloads.Count; w++)
            {
                var line = plot.Add.Scatter(
                    runs.Select(r => Math.Log10(r.ActivatedKeys)).ToArray(),
                    runs.Select(r => r.Reads.Single(x => x.Workload == ScalingSuite.Workloads[w]).CallsPerSecond).ToArray(), s_colors[w]);
                line.LegendText = $"{ScalingSuite.Workloads[w]}, {silos} silo{(silos == 1 ? "" : "s")}";
                line.LineWidth = 2;
                line.MarkerSize = 7;
                line.LinePattern = s_siloPatterns[silosCounts.IndexOf(silos) % s_siloPatterns.Length];
            }
        }

        KeySpaceAxis(plot, steps);
        plot.Title($"Read throughput vs active keys, {steps[0].Reads[0].InFlight} in flight (higher is better)");
        plot.YLabel("calls per second");
        plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.AutoScale();
        // Head room above the highest point for the legend's six lines.
        plot.Axes.SetLimitsY(0, steps.SelectMany(s => s.Reads).Select(r => r.CallsPerSecond).DefaultIfEmpty(1).Max() * 1.5);
        return plot;
    }

    /// <summary>RSS of all silos together vs active keys (log scale), one line per silo count.</summary>
    private static Plot ScalingMemoryPlot(IReadOnlyList<ScalingStep> steps)
    {
        var plot = new Plot();
        var silosCounts = steps.Select(s => s.Silos).Distinct().Order().ToList();
        foreach (var silos in silosCounts)
        {
            var runs = steps.Where(s => s.Silos == silos).OrderBy(s => s.ActivatedKeys).ToList();
            var line = plot.Add.Scatter(
                runs.Select(r => Math.Log10(r.ActivatedKeys)).ToArray(), runs.Select(r => r.RssMbTotal).ToArray(), s_colors[silosCounts.IndexOf(silos) % s_colors.Length]);
            line.LegendText = $"{silos} silo{(silos == 1 ? "" : "s")}, RSS of all silos";
            line.LineWidth = 2;
            line.MarkerSize = 7;
            line.LinePattern = s_siloPatterns[silosCounts.IndexOf(silos) % s_siloPatterns.Length];
        }

        KeySpaceAxis(plot, steps);
        plot.Title("Memory vs active keys: a ping and a product grain per key (lower is better)");
        plot.YLabel("RSS, MB (all silos together)");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, steps.Select(s => s.RssMbTotal).DefaultIfEmpty(1).Max() * 1.15);
        return plot;
    }

    private static void KeySpaceAxis(Plot plot, IReadOnlyList<ScalingStep> steps)
    {
        var decades = Enumerable.Range(0, 8).Select(d => Math.Pow(10, d))
            .Where(d => d >= steps.Min(s => s.ActivatedKeys) / 10.0 && d <= steps.Max(s => s.ActivatedKeys) * 10.0).ToArray();
        plot.Axes.Bottom.SetTicks(decades.Select(Math.Log10).ToArray(), decades.Select(d => d.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.XLabel("active keys (log scale)");
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
