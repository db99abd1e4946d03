namespace Shards.Bench;

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

/// <summary>
/// Acknowledged writes with grain state sharded over <see cref="Shards"/> databases, on one server or on as many
/// separate servers; <see cref="ScalingRatio"/> is against the 1-shard layout of the same run (null without one), and
/// <see cref="PgbenchTps"/> is pgbench -N on the same server(s) at once (<see cref="PgbenchClientsPerServer"/> each).
/// </summary>
public sealed record ShardWriteRun(
    int Shards,
    bool SeparateServers,
    int Servers,
    int InFlight,
    long Writes,
    long Errors,
    double WritesPerSecond,
    double WriteP50Ms,
    double WriteP99Ms,
    double? ScalingRatio,
    double PgbenchTps,
    int PgbenchClientsPerServer,
    double RatioToPgbench);

/// <summary>Resident memory of the silos (average per silo) idle and after activating grains.</summary>
public sealed record MemoryStep(int Silos, int ActiveGrains, double RssMbPerSilo);

/// <summary>One workload's closed-loop reads at one key space: <see cref="VsBare"/> is against the bare ping of the same step.</summary>
public sealed record ScalingRead(string Workload, int InFlight, long Calls, long Errors, double Seconds, double CallsPerSecond, double P50Ms, double P99Ms, double VsBare);

/// <summary>
/// One silo after a scaling step: its activations of the two workloads' grains, its RSS when just started and now, and
/// (RSS now - RSS idle) / activations (null without activations).
/// </summary>
public sealed record ScalingSilo(string Silo, long Activations, double IdleRssMb, double RssMb, double? BytesPerActivation);

/// <summary>
/// One key space on one silo count: <see cref="ActivatedKeys"/> of the <see cref="KeySpace"/> keys were activated (each
/// a ping grain and a product grain), fewer when the time budget or the memory reserve ran out (<see cref="ShortBecause"/>
/// says which), <see cref="ActivationInFlight"/> keys at a time; the reads drew their keys uniformly from the activated keys.
/// </summary>
public sealed record ScalingStep(
    int Silos,
    int KeySpace,
    int ActivatedKeys,
    string? ShortBecause,
    double ActivationSeconds,
    int ActivationInFlight,
    long ActivationErrors,
    IReadOnlyList<ScalingRead> Reads,
    IReadOnlyList<ScalingSilo> PerSilo,
    double IdleRssMbTotal,
    double RssMbTotal,
    double? BytesPerActivation)
{
    public long Activations => PerSilo.Sum(s => s.Activations);
}

/// <summary>
/// One placement strategy over the same keys: max/mean and min/mean keys per silo with 3 silos, max/mean with 4, the
/// fraction of keys placed elsewhere once a 4th silo joined, and the share of those that went to the new silo.
/// </summary>
public sealed record PlacementRow(
    string Strategy,
    int Keys,
    double SpreadWith3,
    double MinShareWith3,
    double SpreadWith4,
    double MovedOnJoin,
    double MovedToNewSilo);

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
    IReadOnlyList<string> Plots,
    IReadOnlyList<PlacementRow> Placement,
    IReadOnlyList<ShardWriteRun> ShardWrites,
    string LoadAverageAtEnd)
{
    /// <summary>Throughput and memory by key space and silo count (empty unless the scaling suite ran).</summary>
    public IReadOnlyList<ScalingStep> Scaling { get; init; } = [];

    /// <summary>The HTTP path, from the bare endpoint to checkout (null unless the HTTP suite ran).</summary>
    public HttpBenchResults? Http { get; init; }

    /// <summary>Shards reads must reach this share of the bare grain's throughput.</summary>
    public const double ReadTarget = 0.8;

    /// <summary>Shards' acknowledged writes must reach this multiple of pgbench -N on the same server.</summary>
    public const double WriteTarget = 1.0;
}
