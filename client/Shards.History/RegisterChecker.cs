using System.Globalization;

namespace Shards.History;

/// <summary>
/// Checks a register's history (writes of unique values, reads). A write's value can be read from the moment it is
/// invoked; an acknowledged write took effect by its completion, and any write took effect by the completion of the
/// first read that returned its value (values are unique). The rules:
/// <list type="bullet">
/// <item><see cref="ReadUnwritten"/>: a read returns a value no write wrote (nor the value before the run);</item>
/// <item><see cref="ReadFailedWrite"/>: a read returns a value whose write failed definitely;</item>
/// <item><see cref="ReadBeforeWrite"/>: a read completed before the write of its value was invoked;</item>
/// <item><see cref="StaleRead"/>: a read returns a value that a later write had overwritten before the read began
/// (a write invoked after the value had taken effect, and known to have taken effect itself before the read began);</item>
/// <item><see cref="FinalValue"/>: the same for the read-back after the run: the final value must be the last
/// acknowledged one (any of several that overlap) or one whose outcome is unknown.</item>
/// </list>
/// A write whose outcome is unknown may take effect at any time after its invocation, even long after the client gave
/// up: alone it never makes a read stale.
/// </summary>
public static class RegisterChecker
{
    public const string Name = "register";
    public const string ReadUnwritten = "read-unwritten";
    public const string ReadFailedWrite = "read-failed-write";
    public const string ReadBeforeWrite = "read-before-write";
    public const string StaleRead = "stale-read";
    public const string FinalValue = "final-value";

    /// <summary>The violations of one register's history.</summary>
    /// <exception cref="ArgumentException">Two writes of the history wrote the same value.</exception>
    public static IReadOnlyList<HistoryViolation> Check(KeyDeclaration key, IReadOnlyList<Operation> operations)
    {
        var writes = operations.Where(o => o.Kind == OperationKind.Write).ToList();
        var reads = operations.Where(o => o.Kind == OperationKind.Read && o.Outcome == OperationOutcome.Ok).ToList();
        var byValue = new Dictionary<long, Operation>();
        foreach (var write in writes.Where(w => w.Value is not null))
        {
            if (!byValue.TryAdd(write.Value!.Value, write))
            {
                throw new ArgumentException($"Register {key.Key}: writes #{byValue[write.Value.Value].Index} and #{write.Index} wrote the same value {write.Value}; values must be unique.", nameof(operations));
            }
        }

        // When each write that may have taken effect had certainly taken effect: at its acknowledgement, or at the
        // completion of the first read that returned its value (a read that completed before the write began proves nothing).
        var effectiveBy = writes.Where(w => w.Outcome != OperationOutcome.Failed)
            .ToDictionary(w => w.Index, w => w.Outcome == OperationOutcome.Ok ? w.CompletedOrNever : TimeSpan.MaxValue);
        foreach (var read in reads)
        {
            if (read.Value is { } value && byValue.TryGetValue(value, out var write) && effectiveBy.TryGetValue(write.Index, out var by) &&
                read.CompletedOrNever >= write.InvokedAt && read.CompletedOrNever < by)
            {
                effectiveBy[write.Index] = read.CompletedOrNever;
            }
        }

        // Writes known to have taken effect, by when; with the latest-invoked one among each prefix.
        var overwriters = writes.Where(w => effectiveBy.TryGetValue(w.Index, out var by) && by != TimeSpan.MaxValue)
            .OrderBy(w => effectiveBy[w.Index]).ToList();
        var overwriterTimes = overwriters.Select(w => effectiveBy[w.Index]).ToArray();
        var latestInvoked = new Operation[overwriters.Count];
        for (var i = 0; i < overwriters.Count; i++)
        {
            latestInvoked[i] = i > 0 && latestInvoked[i - 1].InvokedAt >= overwriters[i].InvokedAt ? latestInvoked[i - 1] : overwriters[i];
        }

        var violations = new List<HistoryViolation>();
        foreach (var read in reads)
        {
            Operation? write = null;
            TimeSpan tookEffectBy;
            if (read.Value is { } value && byValue.TryGetValue(value, out var writer))
            {
                if (writer.Outcome == OperationOutcome.Failed)
                {
                    violations.Add(Violation(ReadFailedWrite, key, $"read {Show(read.Value)}, which only a write that failed definitely wrote (it must never take effect)", read, writer));
                    continue;
                }

                if (writer.InvokedAt > read.CompletedOrNever)
                {
                    violations.Add(Violation(ReadBeforeWrite, key,
                        $"read {Show(read.Value)}, whose write began {Seconds(writer.InvokedAt - read.CompletedOrNever)} after the read had completed", read, writer));
                    continue;
                }

                write = writer;
                tookEffectBy = effectiveBy[writer.Index];
            }
            else if (read.Value == key.Initial)
            {
                tookEffectBy = TimeSpan.MinValue; // the value before the run
            }
            else
            {
                violations.Add(Violation(ReadUnwritten, key,
                    $"read {Show(read.Value)}, which no write of the run wrote and which was not the value before the run ({Show(key.Initial)})", read));
                continue;
            }

            var known = CountBelow(overwriterTimes, read.InvokedAt);
            if (known > 0 && latestInvoked[known - 1] is var later && later.InvokedAt > tookEffectBy && !ReferenceEquals(later, write))
            {
                var what = write is null ? $"the value before the run ({Show(read.Value)})" : $"{Show(read.Value)} (taken effect by {Seconds(tookEffectBy)})";
                var message = read.IsFinal
                    ? $"the final value is {Show(read.Value)}, but it is neither the last acknowledged value nor one of unknown outcome: " +
                      $"{Show(later.Value)} overwrote {what}, by {Seconds(effectiveBy[later.Index])}"
                    : $"read {Show(read.Value)}, but {Show(later.Value)} had overwritten {what}: its write began after that and had taken effect by " +
                      $"{Seconds(effectiveBy[later.Index])}, before the read began";
                violations.Add(write is null
                    ? Violation(read.IsFinal ? FinalValue : StaleRead, key, message, read, later)
                    : Violation(read.IsFinal ? FinalValue : StaleRead, key, message, read, write, later));
            }
        }

        return violations;
    }

    /// <summary>How many of the ascending <paramref name="sorted"/> are strictly before <paramref name="at"/>.</summary>
    internal static int CountBelow(TimeSpan[] sorted, TimeSpan at)
    {
        int low = 0, high = sorted.Length;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (sorted[middle] < at)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    /// <summary>How many of the ascending <paramref name="sorted"/> are at or before <paramref name="at"/>.</summary>
    internal static int CountAtOrBelow(TimeSpan[] sorted, TimeSpan at) => at == TimeSpan.MaxValue ? sorted.Length : CountBelow(sorted, at + TimeSpan.FromTicks(1));

    private static HistoryViolation Violation(string rule, KeyDeclaration key, string message, params Operation[] operations) =>
        new(Name, rule, key.Key, message, operations);

    private static string Show(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "nothing";

    private static string Seconds(TimeSpan span) => Operation.Seconds(span);
}
