namespace Shards.Client.Bench;

/// <summary>One latency percentile: <see cref="Percentile"/> % of the calls took at most <see cref="Ms"/>.</summary>
public sealed record CdfPoint(double Percentile, double Ms);

/// <summary>One fixed-duration closed-loop run of one workload at one concurrency level.</summary>
public sealed record CallRun(
    string Workload,
    int Silos,
    int InFlight,
    long Calls,
    long Errors,
    double Seconds,
    double CallsPerSecond,
    double P50Ms,
    double P99Ms,
    double CpuMsPer1000Calls,
    IReadOnlyList<CdfPoint> Cdf);

/// <summary>Shards' read against the bare grain at the same silos and concurrency.</summary>
public sealed record CallRatio(string Workload, int Silos, int InFlight, double Ratio, bool TargetMet);

/// <summary>Acknowledged Shards writes against pgbench -N on the same server with as many connections.</summary>
public sealed record WriteComparison(
    int InFlight,
    long Writes,
    long Errors,
    double WritesPerSecond,
    double WriteP50Ms,
    double WriteP99Ms,
    double PgbenchTps,
    double Ratio,
    bool TargetMet);

/// <summary>Resident memory of the silos (average per silo) idle and after activating grains.</summary>
public sealed record MemoryStep(int Silos, int ActiveGrains, double RssMbPerSilo);

/// <summary>Where the figures were measured.</summary>
public sealed record BenchMachine(
    int Cores,
    double MemoryGb,
    string Kernel,
    string DotnetVersion,
    string PostgresVersion,
    string OrleansVersion,
    string LoadAverageAtStart);

/// <summary>The whole document <c>shards bench --json</c> prints and results.json holds.</summary>
public sealed record BenchResults(
    DateTimeOffset StartedAt,
    double ElapsedSeconds,
    bool Quick,
    string Command,
    BenchMachine Machine,
    IReadOnlyList<CallRun> Calls,
    IReadOnlyList<CallRatio> Ratios,
    IReadOnlyList<WriteComparison> Writes,
    IReadOnlyList<MemoryStep> Memory,
    double? RssMbPer1000Grains,
    IReadOnlyList<string> Plots)
{
    /// <summary>Shards reads must reach this share of the bare grain's throughput.</summary>
    public const double ReadTarget = 0.8;

    /// <summary>Shards' acknowledged writes must reach this multiple of pgbench -N on the same server.</summary>
    public const double WriteTarget = 1.0;
}
