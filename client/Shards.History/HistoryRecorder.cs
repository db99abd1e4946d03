using System.Collections.Concurrent;
using System.Diagnostics;

namespace Shards.History;

/// <summary>An operation invoked and not completed yet; complete it with <see cref="HistoryRecorder.Complete"/>.</summary>
public sealed class PendingOperation
{
    internal PendingOperation(long index, int client, OperationKind kind, string key, long? value, TimeSpan invokedAt)
    {
        Index = index;
        Client = client;
        Kind = kind;
        Key = key;
        Value = value;
        InvokedAt = invokedAt;
    }

    public long Index { get; }

    public int Client { get; }

    public OperationKind Kind { get; }

    public string Key { get; }

    public long? Value { get; }

    public TimeSpan InvokedAt { get; }
}

/// <summary>
/// Records a history as it happens, from many threads: each operation is invoked (index and time taken then) and
/// completed with its outcome. Times come from <see cref="Stopwatch"/> (monotonic), relative to the origin given at
/// construction (the start of the run). An operation never completed is in the <see cref="Snapshot"/> as unknown,
/// never completed: it may still take effect.
/// </summary>
public sealed class HistoryRecorder
{
    private readonly long _origin;
    private readonly ConcurrentDictionary<long, PendingOperation> _pending = new();
    private readonly ConcurrentQueue<Operation> _done = new();
    private readonly ConcurrentDictionary<string, KeyDeclaration> _keys = new(StringComparer.Ordinal);
    private long _next;

    /// <param name="originTimestamp">A <see cref="Stopwatch.GetTimestamp"/> value: time 0 of the history.</param>
    public HistoryRecorder(long originTimestamp)
    {
        _origin = originTimestamp;
    }

    /// <summary>Now, relative to the origin.</summary>
    public TimeSpan Now => At(Stopwatch.GetTimestamp());

    /// <summary>A <see cref="Stopwatch.GetTimestamp"/> value relative to the origin.</summary>
    public TimeSpan At(long timestamp) => Stopwatch.GetElapsedTime(_origin, timestamp);

    /// <summary>Declares a key and its value before the history (a later declaration of the same key replaces it).</summary>
    public void Declare(string key, KeyModel model, long? initial) => _keys[key] = new KeyDeclaration(key, model, initial);

    /// <summary>Takes the operation's index and invocation time now; the caller then does it.</summary>
    public PendingOperation Invoke(int client, OperationKind kind, string key, long? value = null)
    {
        var pending = new PendingOperation(Interlocked.Increment(ref _next), client, kind, key, value, Now);
        _pending[pending.Index] = pending;
        return pending;
    }

    /// <summary>
    /// Completes <paramref name="pending"/> now. <paramref name="readValue"/> is what a successful read returned
    /// (ignored for writes and adds, which keep the value they were invoked with).
    /// </summary>
    public Operation Complete(PendingOperation pending, OperationOutcome outcome, long? readValue = null, string? error = null)
    {
        var completedAt = Now;
        if (!_pending.TryRemove(pending.Index, out _))
        {
            throw new InvalidOperationException($"Operation #{pending.Index} was completed already.");
        }

        var value = pending.Kind == OperationKind.Read ? (outcome == OperationOutcome.Ok ? readValue : null) : pending.Value;
        var operation = new Operation(pending.Index, pending.Client, pending.Kind, pending.Key, value, pending.InvokedAt, completedAt, outcome, error);
        _done.Enqueue(operation);
        return operation;
    }

    /// <summary>
    /// Records an operation whose times the caller measured itself (e.g. the set-up before the run), with the next
    /// index; <paramref name="invokedAt"/> and <paramref name="completedAt"/> are <see cref="Stopwatch"/> timestamps.
    /// </summary>
    public Operation Record(
        int client, OperationKind kind, string key, long? value, long invokedAt, long? completedAt, OperationOutcome outcome, string? error = null)
    {
        var operation = new Operation(
            Interlocked.Increment(ref _next), client, kind, key, value, At(invokedAt), completedAt is { } end ? At(end) : null, outcome, error);
        _done.Enqueue(operation);
        return operation;
    }

    /// <summary>The history so far, by index; operations still pending are unknown and never completed.</summary>
    public History Snapshot()
    {
        var operations = _done.ToList();
        operations.AddRange(_pending.Values.Select(p =>
            new Operation(p.Index, p.Client, p.Kind, p.Key, p.Kind == OperationKind.Read ? null : p.Value, p.InvokedAt, null, OperationOutcome.Unknown,
                "no answer by the end of the run")));
        operations.Sort((a, b) => a.Index.CompareTo(b.Index));
        return new History(operations, _keys.Values.ToList());
    }
}
