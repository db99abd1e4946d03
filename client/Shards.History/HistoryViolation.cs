namespace Shards.History;

/// <summary>
/// A rule of a checker that a key's history broke, why in words, and the operations involved (times relative to the
/// start of the run). <see cref="At"/> orders violations: when the offending operation (usually a read) began.
/// </summary>
/// <param name="Checker"><see cref="RegisterChecker.Name"/> or <see cref="CounterChecker.Name"/>.</param>
/// <param name="Rule">The rule broken, e.g. <c>stale-read</c>: one of the checker's rule constants.</param>
public sealed record HistoryViolation(string Checker, string Rule, string Key, string Message, IReadOnlyList<Operation> Operations)
{
    public TimeSpan At => Operations.Count == 0 ? TimeSpan.Zero : Operations[0].InvokedAt;

    public override string ToString() =>
        $"{Checker} {Rule} on {Key}: {Message}{string.Concat(Operations.Select(o => $"{Environment.NewLine}    {o}"))}";
}

/// <summary>What one checker found over every key of its model.</summary>
/// <param name="Checker">The checker's name.</param>
/// <param name="Keys">Keys checked.</param>
/// <param name="Operations">Operations of those keys.</param>
/// <param name="ViolationCount">Every violation found.</param>
/// <param name="ByRule">Violations per rule.</param>
/// <param name="Violations">The first violations (by time), at most <see cref="HistoryChecker.MaxViolationsKept"/>.</param>
public sealed record CheckerResult(
    string Checker,
    int Keys,
    long Operations,
    long ViolationCount,
    IReadOnlyDictionary<string, long> ByRule,
    IReadOnlyList<HistoryViolation> Violations)
{
    public bool Passed => ViolationCount == 0;
}

/// <summary>
/// A checked history: the run's operations by outcome (the clients' operations: neither the set-up before the run
/// nor the read-back after it), the read-back's reads, and each checker's result.
/// </summary>
public sealed record HistoryCheck(
    long OperationsOk,
    long OperationsFailed,
    long OperationsUnknown,
    long FinalReads,
    IReadOnlyList<CheckerResult> Checkers)
{
    public long Operations => OperationsOk + OperationsFailed + OperationsUnknown;

    public long ViolationCount => Checkers.Sum(c => c.ViolationCount);

    public bool Passed => ViolationCount == 0;
}
