using System.Diagnostics;
using System.Globalization;
using Shards.LocalCluster;

namespace Shards.Load;

/// <summary>
/// What a cut-off silo says of its majority lease while a network nemesis lasts: its <c>/metrics</c> (the
/// <c>shards_lease_held</c> gauge and the <c>shards_lease_refused</c> counter), read through its HTTP port with the
/// local API key. Reports when it stopped serving, how many calls it refused, and when it served again. A silo the
/// load cannot reach (isolated, or exited) is simply not read; the report says what was seen.
/// </summary>
internal sealed class LeaseWatch : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMilliseconds(800);
    private readonly HttpClient _http;
    private readonly Uri _metrics;
    private readonly string _silo;
    private readonly long _struckAt;
    private double? _lostAfter;
    private double? _regainedAfter;
    private long? _refusedAtStart;
    private long _refused;
    private int _reads;

    public LeaseWatch(LocalSiloState silo, long struckAt)
    {
        _silo = silo.Name;
        _struckAt = struckAt;
        _metrics = new Uri(new Uri(silo.HttpUrl), "metrics");
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) }) { Timeout = s_timeout };
        if (File.Exists(LocalApiKey.DefaultPath))
        {
            _http.DefaultRequestHeaders.Add("X-Api-Key", File.ReadAllText(LocalApiKey.DefaultPath).Trim());
        }
    }

    /// <summary>Reads the silo's lease once; a change is passed to <paramref name="onChange"/>.</summary>
    public async Task ReadAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await _http.GetStringAsync(_metrics, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return; // unreachable from here (isolated, exited, or slow): nothing seen this time
        }

        var held = Value(text, "shards_lease_held");
        var refused = Value(text, "shards_lease_refused_total");
        if (held is null)
        {
            return; // a silo without the lease (switched off)
        }

        _reads++;
        var since = Stopwatch.GetElapsedTime(_struckAt).TotalSeconds;
        _refusedAtStart ??= (long)(refused ?? 0);
        _refused = Math.Max(_refused, (long)(refused ?? 0) - _refusedAtStart.Value);
        if (held == 0 && _lostAfter is null)
        {
            _lostAfter = since;
            onChange(new ChaosAction("lease lost", $"{_silo} lost its majority lease {since:0.0} s after the fault began: it refuses grain calls from then on"));
        }
        else if (held == 1 && _lostAfter is not null && _regainedAfter is null)
        {
            _regainedAfter = since;
            onChange(new ChaosAction("lease regained", $"{_silo} holds its majority lease again {since:0.0} s after the fault began"));
        }
    }

    /// <summary>A sentence for the report's summary.</summary>
    public string Summary() =>
        _reads == 0
            ? $"its lease could not be read (its HTTP port did not answer)"
            : (_lostAfter is { } lost ? $"served until it lost its majority lease {lost:0.0} s after the fault began, then refused {_refused:N0} call(s)" : "never lost its majority lease while it could be read") +
              (_regainedAfter is { } back ? $", held it again {back:0.0} s after" : string.Empty);

    public void Dispose() => _http.Dispose();

    /// <summary>The sum of the samples of <paramref name="metric"/> (any labels) in a Prometheus text page; null when absent.</summary>
    internal static double? Value(string page, string metric)
    {
        double? sum = null;
        foreach (var line in page.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith(metric, StringComparison.Ordinal) || line.Length == metric.Length || (line[metric.Length] != ' ' && line[metric.Length] != '{'))
            {
                continue;
            }

            var rest = line[metric.Length..];
            if (rest[0] == '{')
            {
                var close = rest.IndexOf('}');
                rest = close < 0 ? [] : rest[(close + 1)..];
            }

            var parts = rest.Trim().ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 0 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                sum = (sum ?? 0) + value;
            }
        }

        return sum;
    }
}
