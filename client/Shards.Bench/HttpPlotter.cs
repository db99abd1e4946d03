using ScottPlot;

namespace Shards.Bench;

/// <summary>The HTTP suite's PNGs: requests/s by connection count, and the latency CDF at one connection count.</summary>
public static class HttpPlotter
{
    private const int Width = 900;
    private const int Height = 560;
    private static readonly Color[] s_colors = [Colors.Gray, Colors.Black, Colors.RoyalBlue, Colors.DarkOrange, Colors.ForestGreen];
    private static readonly LinePattern[] s_targetPatterns = [LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted];

    /// <summary>http-throughput.png and http-latency-cdf.png in <paramref name="directory"/>; their paths (none without runs).</summary>
    public static IReadOnlyList<string> Write(HttpBenchResults http, string directory)
    {
        if (http.Runs.Count == 0)
        {
            return [];
        }

        var throughput = Path.Combine(directory, "http-throughput.png");
        var cdf = Path.Combine(directory, "http-latency-cdf.png");
        Throughput(http).SavePng(throughput, Width, Height);
        LatencyCdf(http).SavePng(cdf, Width, Height);
        return [throughput, cdf];
    }

    private static Plot Throughput(HttpBenchResults http)
    {
        var plot = new Plot();
        var levels = http.Runs.Select(r => r.Connections).Distinct().Order().ToArray();
        foreach (var (target, endpoint, runs) in Lines(http, _ => true))
        {
            var ordered = runs.OrderBy(r => r.Connections).ToList();
            Style(plot.Add.Scatter(ordered.Select(r => Math.Log2(r.Connections)).ToArray(), ordered.Select(r => r.RequestsPerSecond).ToArray()), target, endpoint).MarkerSize = 6;
        }

        plot.Axes.Bottom.SetTicks(levels.Select(l => Math.Log2(l)).ToArray(), levels.Select(l => $"{l}").ToArray());
        plot.Title("HTTP requests/s vs connections: color = endpoint, line = target (higher is better)");
        plot.XLabel("connections, one request in flight each (closed loop)");
        plot.YLabel("2xx answers per second");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, http.Runs.Select(r => r.RequestsPerSecond).DefaultIfEmpty(1).Max() * 1.6);
        return plot;
    }

    /// <summary>At the highest connection count up to 64, x on a log scale of milliseconds.</summary>
    private static Plot LatencyCdf(HttpBenchResults http)
    {
        var plot = new Plot();
        var level = http.Runs.Where(r => r.Connections <= 64).Select(r => r.Connections).DefaultIfEmpty(http.Runs.Min(r => r.Connections)).Max();
        foreach (var (target, endpoint, runs) in Lines(http, r => r.Connections == level))
        {
            var run = runs[0];
            var line = Style(plot.Add.Scatter(run.Cdf.Select(p => Math.Log10(Math.Max(0.01, p.Ms))).ToArray(), run.Cdf.Select(p => p.Percentile).ToArray()), target, endpoint);
            line.MarkerSize = 0;
        }

        double[] ticks = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000];
        plot.Axes.Bottom.SetTicks(ticks.Select(Math.Log10).ToArray(), ticks.Select(t => $"{t:0.##}").ToArray());
        plot.Title($"HTTP latency CDF at {level} connections: color = endpoint, line = target (left is better)");
        plot.XLabel("latency of 2xx answers, ms (log scale)");
        plot.YLabel("percent of requests at most this slow");
        plot.ShowLegend(Alignment.LowerRight);
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, 101);
        return plot;
    }

    private static IEnumerable<(string Target, string Endpoint, IReadOnlyList<HttpRun> Runs)> Lines(HttpBenchResults http, Func<HttpRun, bool> filter) =>
        from target in http.Runs.Select(r => r.Target).Distinct()
        from endpoint in http.Runs.Select(r => r.Endpoint).Distinct()
        let runs = http.Runs.Where(r => r.Target == target && r.Endpoint == endpoint && filter(r)).ToList()
        where runs.Count > 0 && runs.Any(r => r.Cdf.Count > 0 || r.RequestsPerSecond > 0)
        select (target, endpoint, (IReadOnlyList<HttpRun>)runs);

    private static ScottPlot.Plottables.Scatter Style(ScottPlot.Plottables.Scatter line, string target, string endpoint)
    {
        var targetIndex = Math.Max(0, HttpSuite.Targets.ToList().IndexOf(target));
        var endpointIndex = Math.Max(0, HttpEndpoints.All.Select(HttpEndpoints.Name).ToList().IndexOf(endpoint));
        line.Color = s_colors[endpointIndex % s_colors.Length];
        line.LinePattern = s_targetPatterns[targetIndex % s_targetPatterns.Length];
        line.LineWidth = 2;
        line.LegendText = $"{endpoint}, {target}";
        return line;
    }
}
