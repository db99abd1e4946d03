namespace Shards.Bench;

/// <summary>
/// One endpoint on one target at one connection count (requests in flight, one per connection). Requests/s counts 2xx
/// answers (the median round); p50 and p99 are of 2xx answers over all rounds. Non-2xx answers and transport errors
/// (refused, reset, timed out) are counted apart. CPU is utime + stime per 1,000 2xx answers over the measured rounds:
/// the silos together, nginx (master and workers; null when nginx is not in the path) and this client.
/// <see cref="VsBare"/> divides requests/s by the bare endpoint's on the same target and connection count.
/// </summary>
public sealed record HttpRun(
    string Endpoint,
    string Target,
    int Connections,
    string Tool,
    long Requests,
    long Non2xx,
    long TransportErrors,
    double Seconds,
    double RequestsPerSecond,
    double P50Ms,
    double P99Ms,
    double SiloCpuMsPer1000,
    double? NginxCpuMsPer1000,
    double ClientCpuMsPer1000,
    double VsBare,
    string? FirstError,
    bool RanOutOfCarts,
    IReadOnlyList<CdfPoint> Cdf);

/// <summary>A target the HTTP suite could not measure, and why.</summary>
public sealed record HttpSkippedTarget(string Target, string Reason);

/// <summary>The HTTP suite: its cluster, which load generator produced the figures and why, its runs and skipped targets.</summary>
public sealed record HttpBenchResults(
    int Silos,
    string Tool,
    string ToolReason,
    int CheckoutCartsPrepared,
    IReadOnlyList<HttpRun> Runs,
    IReadOnlyList<HttpSkippedTarget> Skipped);
