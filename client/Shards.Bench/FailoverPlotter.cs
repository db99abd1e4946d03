using ScottPlot;

namespace Shards.Bench;

/// <summary>The PNGs of <c>shards bench failover</c> (ScottPlot, headless through Skia).</summary>
public static class FailoverPlotter
{
    private const int Width = 900;
    private const int Height = 520;
    private static readonly Color[] s_colors = [Colors.RoyalBlue, Colors.DarkOrange, Colors.SeaGreen, Colors.Gray];

    /// <summary>Writes recovery-distribution.png and chaos-throughput.png into <paramref name="directory"/>; their paths.</summary>
    public static IReadOnlyList<string> Write(FailoverResults results, string directory)
    {
        Directory.CreateDirectory(directory);
        var distribution = Path.Combine(directory, "recovery-distribution.png");
        var throughput = Path.Combine(directory, "chaos-throughput.png");
        Distribution(results).SavePng(distribution, Width, Height);
        Throughput(results).SavePng(throughput, Width, Height);
        return [distribution, throughput];
    }

    /// <summary>The share of kills recovered within x seconds (one step line per mode and measure).</summary>
    private static Plot Distribution(FailoverResults results)
    {
        var plot = new Plot();
        var color = 0;
        foreach (var mode in results.Kills.Select(k => k.Mode).Distinct())
        {
            foreach (var (measure, pick, pattern) in new (string, Func<KillSample, double?>, LinePattern)[]
            {
                ("slowest in-flight caller", k => k.InFlightMaxSeconds, LinePattern.Solid),
                ("every cart answering", k => k.AllCartsSeconds, LinePattern.Dashed),
            })
            {
                var values = results.Kills.Where(k => k.Mode == mode).Select(pick).OfType<double>().Order().ToArray();
                if (values.Length == 0)
                {
                    continue;
                }

                var xs = values.SelectMany(v => new[] { v, v }).ToArray();
                var ys = values.SelectMany((_, i) => new[] { (double)i / values.Length, (double)(i + 1) / values.Length }).ToArray();
                var line = plot.Add.Scatter(xs, ys, s_colors[color % s_colors.Length]);
                line.LegendText = $"{mode}: {measure}";
                line.LineWidth = 2;
                line.MarkerSize = 0;
                line.LinePattern = pattern;
            }

            color++;
        }

        var target = plot.Add.VerticalLine(1.0, 1, Colors.Red);
        target.LinePattern = LinePattern.Dotted;
        target.LegendText = "1 s (target with the launcher's help)";
        plot.Title($"Kill-to-recovery over {results.Kills.Count} SIGKILLs (left is better)");
        plot.XLabel("seconds from SIGKILL");
        plot.YLabel("share of kills recovered");
        plot.ShowLegend(Alignment.LowerRight);
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, 1.05);
        return plot;
    }

    /// <summary>Answered calls per second (100 ms buckets) around each event: the dip and the recovery.</summary>
    private static Plot Throughput(FailoverResults results)
    {
        var plot = new Plot();
        for (var i = 0; i < results.Series.Count; i++)
        {
            var series = results.Series[i];
            var line = plot.Add.Scatter(series.Seconds.ToArray(), series.OkPerSecond.ToArray(), s_colors[i % s_colors.Length]);
            line.LegendText = $"{series.Label}: answered calls/s";
            line.LineWidth = 1.5f;
            line.MarkerSize = 0;
            if (series.FailedPerSecond.Any(f => f > 0))
            {
                var failed = plot.Add.Scatter(series.Seconds.ToArray(), series.FailedPerSecond.ToArray(), Colors.Red);
                failed.LegendText = $"{series.Label}: failed calls/s";
                failed.MarkerSize = 0;
            }
        }

        var strike = plot.Add.VerticalLine(0, 1, Colors.Black);
        strike.LinePattern = LinePattern.Dashed;
        strike.LegendText = "SIGKILL / restart starts";
        plot.Title("Throughput across chaos (shards load workload, 50 clients, 3 silos)");
        plot.XLabel("seconds from the event (100 ms buckets)");
        plot.YLabel("answered calls per second");
        plot.ShowLegend(Alignment.LowerRight);
        plot.Axes.AutoScale();
        return plot;
    }
}
