namespace Shards.History;

/// <summary>
/// Checks every key of a history with its model's checker (<see cref="RegisterChecker"/>,
/// <see cref="CounterChecker"/>), the way Jepsen checks a database: independently of the system that produced it.
/// </summary>
public static class HistoryChecker
{
    /// <summary>
    /// Violations kept per checker: the earliest of each rule, then the next of each, and so on (so that hundreds of one
    /// kind do not hide the first of another), ordered by time; all of them are counted.
    /// </summary>
    public const int MaxViolationsKept = 20;

    public static HistoryCheck Check(History history)
    {
        var results = new Dictionary<KeyModel, (int Keys, long Operations, List<HistoryViolation> Violations)>
        {
            [KeyModel.Register] = (0, 0, []),
            [KeyModel.Counter] = (0, 0, []),
        };
        foreach (var (key, operations) in history.ByKey())
        {
            var found = key.Model == KeyModel.Register ? RegisterChecker.Check(key, operations) : CounterChecker.Check(key, operations);
            var (keys, count, violations) = results[key.Model];
            violations.AddRange(found);
            results[key.Model] = (keys + 1, count + operations.Count, violations);
        }

        var run = history.Operations.Where(o => o.Client >= 0).ToList();
        return new HistoryCheck(
            run.Count(o => o.Outcome == OperationOutcome.Ok),
            run.Count(o => o.Outcome == OperationOutcome.Failed),
            run.Count(o => o.Outcome == OperationOutcome.Unknown),
            history.Operations.Count(o => o.IsFinal),
            [Result(RegisterChecker.Name, results[KeyModel.Register]), Result(CounterChecker.Name, results[KeyModel.Counter])]);
    }

    private static CheckerResult Result(string name, (int Keys, long Operations, List<HistoryViolation> Violations) found) => new(
        name,
        found.Keys,
        found.Operations,
        found.Violations.Count,
        found.Violations.GroupBy(v => v.Rule, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.LongCount(), StringComparer.Ordinal),
        Earliest(found.Violations));

    private static List<HistoryViolation> Earliest(List<HistoryViolation> violations) =>
        violations.GroupBy(v => v.Rule, StringComparer.Ordinal)
            .SelectMany(rule => rule.OrderBy(v => v.At).ThenBy(v => v.Key, StringComparer.Ordinal).Select((violation, rank) => (violation, rank)))
            .OrderBy(v => v.rank).ThenBy(v => v.violation.At)
            .Take(MaxViolationsKept)
            .Select(v => v.violation)
            .OrderBy(v => v.At).ThenBy(v => v.Key, StringComparer.Ordinal)
            .ToList();
}
