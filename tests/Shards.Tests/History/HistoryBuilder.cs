using Shards.History;

namespace Shards.Tests.History;

/// <summary>Hand-built histories of one key, with times in seconds after the start of the run.</summary>
internal sealed class HistoryBuilder(string key = "k")
{
    private readonly List<Operation> _operations = [];

    public IReadOnlyList<Operation> Operations => _operations;

    public Operation this[int index] => _operations[index];

    public HistoryBuilder Write(long value, double from, double? to, OperationOutcome outcome = OperationOutcome.Ok, int client = 0) =>
        Add(client, OperationKind.Write, value, from, outcome == OperationOutcome.Unknown ? null : to, outcome);

    /// <summary>A write of unknown outcome whose client gave up at <paramref name="gaveUp"/> (it may still take effect).</summary>
    public HistoryBuilder UnknownWrite(long value, double from, double? gaveUp = null, int client = 0) =>
        Add(client, OperationKind.Write, value, from, gaveUp, OperationOutcome.Unknown);

    public HistoryBuilder Read(long? value, double from, double to, int client = 1) =>
        Add(client, OperationKind.Read, value, from, to, OperationOutcome.Ok);

    public HistoryBuilder FinalRead(long? value, double at) =>
        Add(Operation.ReadBack, OperationKind.Read, value, at, at + 0.001, OperationOutcome.Ok);

    public HistoryBuilder Increment(double from, double? to, OperationOutcome outcome = OperationOutcome.Ok, long amount = 1, int client = 0) =>
        Add(client, OperationKind.Add, amount, from, to, outcome);

    public IReadOnlyList<HistoryViolation> CheckRegister(long? initial = 0) =>
        RegisterChecker.Check(new KeyDeclaration(key, KeyModel.Register, initial), _operations);

    public IReadOnlyList<HistoryViolation> CheckCounter(long initial = 0) =>
        CounterChecker.Check(new KeyDeclaration(key, KeyModel.Counter, initial), _operations);

    private HistoryBuilder Add(int client, OperationKind kind, long? value, double from, double? to, OperationOutcome outcome)
    {
        _operations.Add(new Operation(
            _operations.Count + 1, client, kind, key, value, TimeSpan.FromSeconds(from), to is { } end ? TimeSpan.FromSeconds(end) : null, outcome,
            outcome == OperationOutcome.Ok ? null : "pretend"));
        return this;
    }
}
