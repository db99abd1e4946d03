using Shards.History;

namespace Shards.Load;

/// <summary>The history operations of one call, and the values a read returned; completed together with the call's outcome.</summary>
internal sealed class CallHistory(PendingOperation[] operations)
{
    public static CallHistory None => new([]);

    public long?[]? Values { get; set; }

    public void Complete(HistoryRecorder recorder, OperationOutcome outcome, Exception? failure)
    {
        var error = failure is null ? null : $"{FailureText.KindOf(failure)}: {FailureText.OneLine(failure.Message)}";
        for (var i = 0; i < operations.Length; i++)
        {
            recorder.Complete(operations[i], outcome, Values is { } values ? values[i] : null, error);
        }
    }
}
