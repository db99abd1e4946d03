using System.Collections.Concurrent;
using System.Diagnostics;

namespace Shards.History;

/// <summary>An operation invoked and not completed yet; complete it with <see cref="HistoryRecorder.Complete"/>.</summary>
public sealed class PendingOperation
{
    internal PendingOperation(long index, int client, OperationKind kind, string key, long? value, long invokedAt)
    {
        Index = index;
        Client = client;
        Kind = kind;
        Key = key;
        Value = value;
        InvokedTimestamp = invokedAt;
    }

    public long Index { get; }

    public int Client { get; }

    public OperationKind Kind { get; }

    public string Key { get; }

    public long? Value { get; }

    /// <summary>When it was invoked (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public long InvokedTimestamp { get; }
}

/// <summary>
/// Records a history as it happens, from many threads: each operation is invoked (index and time taken then) and
/// completed with its outcome. Times come from <see cref="Stopwatch"/> (monotonic); operations report them relative to
/// <see cref="Origin"/> (the start of the run), which may be set after the first operations (the set-up before the
/// run then has negative times). An operation never completed is in the <see cref="Snapshot"/> as unknown, never
/// completed: it may still take effect.
/// </summary>
public sealed class HistoryRecorder
{
    private readonly ConcurrentDictionary<long, PendingOperation> _pending = new();
    private readonly ConcurrentQueue<Recorded> _done = new();
    private readonly ConcurrentDictionary<string, KeyDeclaration> _keys = new(StringComparer.Ordinal);
    private long _next;
    private long _origin;

    /// <param name="origin">A <see cref="Stopwatch.GetTimestamp"/> value: time 0 of the history.</param>
    public HistoryRecorder(long origin)
    {
        _origin = origin;
    }

    /// <summary>Time 0 of the history (a <see cref="Stopwatch.GetTimestamp"/> value).</summary>
    public long Origin
    {
        get => Interlocked.Read(ref _origin);
        set => Interlocked.Exchange(ref _origin, value);
    }

    /// <summary>Declares a key and its value before the history (a later declaration of the same key replaces it).</summary>
    public void Declare(string key, KeyModel model, long? initial) => _keys[key] = new KeyDeclaration(key, model, initial);

    /// <summary>Takes the operation's index and invocation time now; the caller then does it.</summary>
    public PendingOperation Invoke(int client, OperationKind kind, string key, long? value = null)
    {
        var pending = new PendingOperation(Interlocked.Increment(ref _next), client, kind, key, value, Stopwatch.GetTimestamp());
        _pending[pending.Index] = pending;
        return pending;
    }

    /// <summary>
    /// Completes <paramref name="pending"/> now. <paramref name="readValue"/> is what a successful read returned
    /// (ignored for writes and adds, which keep the value they were invoked with).
    /// </summary>
    public Operation Complete(PendingOperation pending, OperationOutcome outcome, long? readValue = null, string? error = null)
    {
        var completedAt = Stopwatch.GetTimestamp();
        if (!_pending.TryRemove(pending.Index, out _))
        {
            throw new InvalidOperationException($"Operation #{pending.Index} was completed already.");
        }

        var value = pending.Kind == OperationKind.Read ? (outcome == OperationOutcome.Ok ? readValue : null) : pending.Value;
        var recorded = new Recorded(pending.Index, pending.Client, pending.Kind, pending.Key, value, pending.InvokedTimestamp, completedAt, outcome, error);
        _done.Enqueue(recorded);
        return recorded.ToOperation(Origin);
    }

    /// <summary>The history so far, by index; operations still pending are unknown and never completed.</summary>
    public History Snapshot()
    {
        var origin = Origin;
        var operations = _done.Select(r => r.ToOperation(origin)).ToList();
        operations.AddRange(_pending.Values.Select(p =>
            new Recorded(p.Index, p.Client, p.Kind, p.Key, p.Kind == OperationKind.Read ? null : p.Value, p.InvokedTimestamp, null, OperationOutcome.Unknown,
                "no answer by the end of the run").ToOperation(origin)));
        operations.Sort((a, b) => a.Index.CompareTo(b.Index));
        return new History(operations, _keys.Values.ToList());
    }

    private sealed record Recorded(
        long Index, int Client, OperationKind Kind, string Key, long? Value, long InvokedAt, long? CompletedAt, OperationOutcome Outcome, string? Error)
    {
        public Operation ToOperation(long origin) => new(
            Index, Client, Kind, Key, Value, Since(origin, InvokedAt), CompletedAt is { } end ? Since(origin, end) : null, Outcome, Error);

        private static TimeSpan Since(long origin, long timestamp) =>
            TimeSpan.FromSeconds((timestamp - origin) / (double)Stopwatch.Frequency);
    }
}
