using System.Globalization;

namespace Shards.History;

/// <summary>
/// Checks a counter's history (adds of positive amounts, reads of the total) against what the adds allow:
/// <list type="bullet">
/// <item><see cref="ReadTooLow"/>: a read returned less than the initial value plus the adds acknowledged before the
/// read began (an acknowledged add was lost, or not visible yet);</item>
/// <item><see cref="ReadTooHigh"/>: a read returned more than the initial value plus every add (acknowledged or of
/// unknown outcome) invoked before the read completed (an add applied twice, or a failed one applied);</item>
/// <item><see cref="ReadDecreased"/>: a read returned less than a read that completed before it began (adds only ever
/// add: an applied add vanished);</item>
/// <item><see cref="FinalLost"/> and <see cref="FinalDuplicated"/>: the read-back after the run, below the acknowledged
/// adds or above the acknowledged plus unknown ones. An add that failed definitely counts for neither bound.</item>
/// </list>
/// </summary>
public static class CounterChecker
{
    public const string Name = "counter";
    public const string ReadTooLow = "read-too-low";
    public const string ReadTooHigh = "read-too-high";
    public const string ReadDecreased = "read-decreased";
    public const string FinalLost = "final-lost";
    public const string FinalDuplicated = "final-duplicated";

    /// <summary>At most this many adds are listed with a violation (the message gives the counts).</summary>
    public const int MaxAddsListed = 5;

    /// <summary>The violations of one counter's history.</summary>
    /// <exception cref="ArgumentException">An add of a history has no positive amount.</exception>
    public static IReadOnlyList<HistoryViolation> Check(KeyDeclaration key, IReadOnlyList<Operation> operations)
    {
        var initial = key.Initial ?? 0;
        var adds = operations.Where(o => o.Kind == OperationKind.Add).ToList();
        if (adds.FirstOrDefault(a => a.Value is not > 0) is { } bad)
        {
            throw new ArgumentException($"Counter {key.Key}: add #{bad.Index} adds {bad.Value}; a counter's adds must be positive.", nameof(operations));
        }

        var acknowledged = adds.Where(a => a.Outcome == OperationOutcome.Ok).OrderBy(a => a.CompletedOrNever).ToList();
        var acknowledgedTimes = acknowledged.Select(a => a.CompletedOrNever).ToArray();
        var acknowledgedSums = PrefixSums(acknowledged);
        var possible = adds.Where(a => a.Outcome != OperationOutcome.Failed).OrderBy(a => a.InvokedAt).ToList();
        var possibleTimes = possible.Select(a => a.InvokedAt).ToArray();
        var possibleSums = PrefixSums(possible);
        var failed = adds.Count(a => a.Outcome == OperationOutcome.Failed);

        var reads = operations.Where(o => o.Kind == OperationKind.Read && o.Outcome == OperationOutcome.Ok).ToList();
        var byCompletion = reads.OrderBy(r => r.CompletedOrNever).ToList();
        var completionTimes = byCompletion.Select(r => r.CompletedOrNever).ToArray();
        var highestSoFar = new Operation[byCompletion.Count];
        for (var i = 0; i < byCompletion.Count; i++)
        {
            highestSoFar[i] = i > 0 && (highestSoFar[i - 1].Value ?? 0) >= (byCompletion[i].Value ?? 0) ? highestSoFar[i - 1] : byCompletion[i];
        }

        var violations = new List<HistoryViolation>();
        foreach (var read in reads)
        {
            var quantity = read.Value ?? 0;
            var before = RegisterChecker.CountBelow(acknowledgedTimes, read.InvokedAt);
            var low = initial + acknowledgedSums[before];
            var invoked = RegisterChecker.CountAtOrBelow(possibleTimes, read.CompletedOrNever);
            var high = initial + possibleSums[invoked];
            if (quantity < low)
            {
                var lost = low - quantity;
                var message = read.IsFinal
                    ? $"the final quantity is {quantity}, but {acknowledgedSums[before]} was acknowledged (from {initial}, expected at least {low}): {lost} acknowledged lost"
                    : $"read {quantity}, but {acknowledgedSums[before]} had been acknowledged before the read began (from {initial}, expected at least {low}): {lost} missing";
                violations.Add(Violation(read.IsFinal ? FinalLost : ReadTooLow, key, message, read, acknowledged.Take(before).TakeLast(MaxAddsListed)));
            }
            else if (quantity > high)
            {
                var unknown = possible.Take(invoked).Where(a => a.Outcome == OperationOutcome.Unknown).ToList();
                var ofUnknown = unknown.Sum(a => a.Value ?? 0);
                var extra = quantity - high;
                var message = (read.IsFinal ? $"the final quantity is {quantity}" : $"read {quantity}") +
                    $", but at most {high} is possible (from {initial}: {possibleSums[invoked] - ofUnknown} acknowledged + {ofUnknown} of unknown outcome" +
                    (read.IsFinal ? string.Empty : " invoked before the read completed") +
                    (failed > 0 ? $"; {failed} add(s) failed definitely" : string.Empty) + $"): {extra} too many, an add applied twice or a failed one applied";
                violations.Add(Violation(read.IsFinal ? FinalDuplicated : ReadTooHigh, key, message, read,
                    unknown.Count > 0 ? unknown.TakeLast(MaxAddsListed) : possible.Take(invoked).TakeLast(MaxAddsListed)));
            }
            else if (RegisterChecker.CountBelow(completionTimes, read.InvokedAt) is var earlier and > 0 && highestSoFar[earlier - 1] is var higher &&
                (higher.Value ?? 0) > quantity)
            {
                violations.Add(Violation(ReadDecreased, key,
                    $"read {quantity}, but an earlier read (completed before this one began) had returned {higher.Value}: adds only add, so {higher.Value - quantity} applied vanished",
                    read, [higher]));
            }
        }

        return violations;
    }

    private static long[] PrefixSums(List<Operation> adds)
    {
        var sums = new long[adds.Count + 1];
        for (var i = 0; i < adds.Count; i++)
        {
            sums[i + 1] = sums[i] + (adds[i].Value ?? 0);
        }

        return sums;
    }

    private static HistoryViolation Violation(string rule, KeyDeclaration key, string message, Operation read, IEnumerable<Operation> others) =>
        new(Name, rule, key.Key, message, [read, .. others]);
}
