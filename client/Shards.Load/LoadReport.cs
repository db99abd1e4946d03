using Shards.History;

namespace Shards.Load;

/// <summary>
/// What <c>shards load</c> measured, in siege's terms (printed for people, or as JSON with <c>--json</c>).
/// As in siege, <see cref="Transactions"/> counts the successful calls (hits) and
/// <see cref="FailedTransactions"/> the calls that threw or had not answered by the end of the run;
/// availability is hits / (hits + failed). <see cref="Reads"/> and <see cref="Writes"/> are the cart calls,
/// <see cref="ProductReads"/> and <see cref="ProductWrites"/> the product calls; <see cref="History"/> is the history
/// checker's verdict on every operation of the run and the read-back.
/// </summary>
public sealed record LoadReport(
    string Target,
    LoadSettings Settings,
    long Transactions,
    double Availability,
    double ElapsedSeconds,
    ResponseTimes? ResponseTime,
    double TransactionRate,
    double Concurrency,
    long SuccessfulTransactions,
    long FailedTransactions,
    OperationCounts Reads,
    OperationCounts Writes,
    bool StoppedEarly,
    IReadOnlyList<SiloThroughput> PerSilo,
    IReadOnlyList<FailureKind> Failures,
    ChaosReport? Chaos,
    WriteCheck WriteCheck,
    IReadOnlyList<SecondSample> Timeline,
    LongestCall? Longest = null,
    OperationCounts? ProductReads = null,
    OperationCounts? ProductWrites = null,
    HistoryCheck? History = null)
{
    /// <summary>
    /// The exit status: nothing acknowledged lost, nothing applied twice, every written cart checked, and no history
    /// violation.
    /// </summary>
    public bool Passed => WriteCheck.Passed && (History?.Passed ?? true);
}

/// <summary>How the run was set up.</summary>
public sealed record LoadSettings(
    int Concurrency, double? DurationSeconds, int? RequestsPerClient, int Keys, int WritePercent, int ProductPercent, IReadOnlyList<NemesisSetting> Chaos);

/// <summary>A nemesis of the run: when it strikes (seconds after the start) and how long its damage lasts (null: it heals on its own).</summary>
public sealed record NemesisSetting(ChaosMode Mode, double AtSeconds, double? ForSeconds);

/// <summary>
/// The successful call that took longest: what it was (<c>write</c> or <c>read</c>), its cart, the silo hosting the
/// cart as located when the call ended, and when it started (seconds after the start of the run).
/// </summary>
public sealed record LongestCall(double Ms, double StartedAtSeconds, string Operation, string Cart, string Silo);

/// <summary>Successful and failed calls of one kind.</summary>
public sealed record OperationCounts(long Ok, long Failed);

/// <summary>Successful transactions of the carts a silo hosted (as last located).</summary>
public sealed record SiloThroughput(string Silo, long Transactions, double Share, double TransactionRate);

/// <summary>Failed calls of one kind (exception type, or the Shards error code), with one message as an example.</summary>
public sealed record FailureKind(string Kind, long Count, string Example);

/// <summary>One second of the run (by completion time): successful and failed calls.</summary>
public sealed record SecondSample(int Second, long Ok, long Failed);

/// <summary>
/// What the nemeses did, when, how long the killed silo's carts took to answer again, a PostgreSQL outage, and how much
/// longer than planned the run lasted because a nemesis held it (a resharding).
/// </summary>
public sealed record ChaosReport(
    IReadOnlyList<ChaosMode> Modes, IReadOnlyList<ChaosEvent> Events, KillRecovery? Recovery, DependencyOutage? Outage = null, double? ExtendedSeconds = null);

/// <summary>
/// A PostgreSQL outage (<c>--chaos pg-restart</c>), as callers saw it: it lasted from <see cref="DownAtSeconds"/> to
/// <see cref="BackAtSeconds"/> (after the start of the run); the calls that completed meanwhile, by kind;
/// <see cref="RecoverySeconds"/> from PostgreSQL being back to the first acknowledged write started after that; and
/// <see cref="LastFailedWriteSeconds"/> from PostgreSQL being back to the last write that still failed.
/// </summary>
public sealed record DependencyOutage(
    double DownAtSeconds, double? BackAtSeconds, OperationCounts WritesDuring, OperationCounts ReadsDuring, double? RecoverySeconds, double? LastFailedWriteSeconds)
{
    public double? DownSeconds => BackAtSeconds - DownAtSeconds;

    /// <summary>The first write that failed from the outage's start on (seconds after the start of the run), if any.</summary>
    public double? FirstFailedWriteAtSeconds { get; init; }

    /// <summary>The last write that failed from the outage's start on, if any.</summary>
    public double? LastFailedWriteAtSeconds { get; init; }

    /// <summary>The write-unavailability window: from the first to the last failed write (0 when none failed).</summary>
    public double WriteUnavailableSeconds => LastFailedWriteAtSeconds - FirstFailedWriteAtSeconds ?? 0;
}

/// <summary>Something a nemesis (<see cref="Nemesis"/>, as spelled on the command line) did or saw, <see cref="AtSeconds"/> after the start of the run.</summary>
public sealed record ChaosEvent(double AtSeconds, string Action, string Detail, string? Nemesis = null);

/// <summary>
/// Kill-to-recovery, as callers saw it: the <see cref="Callers"/> calls in flight to the killed silo's carts at the
/// kill, each from the kill to its successful answer (median and max). <see cref="Recovered"/> carts answered a call
/// started after the kill; <see cref="NotRecovered"/> carts had no successful call before the run ended.
/// <see cref="AllCartsSeconds"/>: from the kill until the last of the killed silo's carts answered a call started after
/// the kill (null when one never did).
/// </summary>
public sealed record KillRecovery(
    string Silo, int Carts, int Recovered, int NotRecovered, int Callers, double? MedianSeconds, double? MaxSeconds,
    double? AllCartsSeconds = null);
