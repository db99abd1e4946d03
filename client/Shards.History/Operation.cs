using System.Globalization;

namespace Shards.History;

/// <summary>What an operation does to its key.</summary>
public enum OperationKind
{
    /// <summary>Replaces a register's value with <see cref="Operation.Value"/> (e.g. a product upsert).</summary>
    Write,

    /// <summary>Reads a register's value or a counter's quantity; <see cref="Operation.Value"/> is what it returned.</summary>
    Read,

    /// <summary>Adds <see cref="Operation.Value"/> (a positive amount) to a counter (e.g. a cart add of 1 unit).</summary>
    Add,
}

/// <summary>How an operation ended, as the client saw it.</summary>
public enum OperationOutcome
{
    /// <summary>Acknowledged: it took effect (a read returned its value).</summary>
    Ok,

    /// <summary>Refused definitely (a domain refusal): it did not take effect and never will.</summary>
    Failed,

    /// <summary>
    /// No definite answer (timeout, transport error, storage unavailable, still running when the run ended): it may
    /// have taken effect, at any time after it was invoked, even after the client gave up on it.
    /// </summary>
    Unknown,
}

/// <summary>
/// One operation of a history: which client invoked what on which key, when it was invoked and when it completed
/// (both from one monotonic clock, relative to the start of the run; negative before it), and how it ended.
/// </summary>
/// <param name="Index">Unique in the history, in invocation order.</param>
/// <param name="Client">The client (0..N-1), or <see cref="ReadBack"/> / <see cref="Prepare"/>.</param>
/// <param name="Value">A write's value, an add's amount, or what a read returned (null: nothing, e.g. no such product).</param>
/// <param name="CompletedAt">Null when the operation never completed (given up on at the end of the run).</param>
/// <param name="Error">For a failed or unknown operation, what the client was told (one line).</param>
public sealed record Operation(
    long Index,
    int Client,
    OperationKind Kind,
    string Key,
    long? Value,
    TimeSpan InvokedAt,
    TimeSpan? CompletedAt,
    OperationOutcome Outcome,
    string? Error = null)
{
    /// <summary>The client of the reads made after the run, to check the final values.</summary>
    public const int ReadBack = -1;

    /// <summary>The client of the operations that set the keys up before the run.</summary>
    public const int Prepare = -2;

    /// <summary>A read made after the run: its value is the key's final value.</summary>
    public bool IsFinal => Client == ReadBack && Kind == OperationKind.Read;

    /// <summary>When the operation completed; for one that never did, the end of time (it may still take effect).</summary>
    internal TimeSpan CompletedOrNever => CompletedAt ?? TimeSpan.MaxValue;

    /// <summary>One line for people: <c>#12 client 3 write product:sku-1 = 17 ok [1.234 s, 1.240 s]</c>.</summary>
    public override string ToString()
    {
        var who = Client switch
        {
            ReadBack => "read-back",
            Prepare => "prepare",
            _ => $"client {Client}",
        };
        var what = Kind switch
        {
            OperationKind.Write => $"write {Key} = {Show(Value)}",
            OperationKind.Add => $"add {Key} +{Show(Value)}",
            _ => Outcome == OperationOutcome.Ok ? $"read {Key} -> {Show(Value)}" : $"read {Key}",
        };
        var outcome = Outcome switch
        {
            OperationOutcome.Ok => "ok",
            OperationOutcome.Failed => "FAILED",
            _ => "UNKNOWN",
        };
        var completed = CompletedAt is { } end ? Seconds(end) : "never";
        var error = Error is null || Outcome == OperationOutcome.Ok ? string.Empty : $" ({Error})";
        return $"#{Index} {who} {what} {outcome} [{Seconds(InvokedAt)}, {completed}]{error}";
    }

    internal static string Seconds(TimeSpan at) => $"{at.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)} s";

    private static string Show(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "nothing";
}
