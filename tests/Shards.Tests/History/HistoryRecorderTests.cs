using System.Diagnostics;
using Shards.History;

namespace Shards.Tests.History;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class HistoryRecorderTests
{
    [Fact]
    public void An_operation_never_completed_is_unknown_and_never_completes()
    {
        var recorder = new HistoryRecorder(Stopwatch.GetTimestamp());
        var pending = recorder.Invoke(4, OperationKind.Add, "cart", 1);

        var operation = Assert.Single(recorder.Snapshot().Operations);

        Assert.Equal((pending.Index, 4, OperationOutcome.Unknown, (TimeSpan?)null, 1L), (operation.Index, operation.Client, operation.Outcome, operation.CompletedAt, operation.Value));
        Assert.True(operation.InvokedAt >= TimeSpan.Zero);
    }

    [Fact]
    public void A_completed_operation_has_its_times_in_order_and_keeps_its_written_value()
    {
        var recorder = new HistoryRecorder(Stopwatch.GetTimestamp());

        var write = recorder.Complete(recorder.Invoke(0, OperationKind.Write, "p", 7), OperationOutcome.Ok, readValue: 99);
        var read = recorder.Complete(recorder.Invoke(0, OperationKind.Read, "p"), OperationOutcome.Ok, readValue: 7);
        var failedRead = recorder.Complete(recorder.Invoke(0, OperationKind.Read, "p"), OperationOutcome.Unknown, readValue: 7, error: "timeout");

        Assert.Equal((7L, 7L, (long?)null), (write.Value, read.Value, failedRead.Value));
        Assert.True(write.InvokedAt <= write.CompletedAt && write.CompletedAt <= read.InvokedAt);
        Assert.Contains("UNKNOWN", failedRead.ToString(), StringComparison.Ordinal);
        Assert.Contains("(timeout)", failedRead.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_operation_cannot_be_completed_twice()
    {
        var recorder = new HistoryRecorder(Stopwatch.GetTimestamp());
        var pending = recorder.Invoke(0, OperationKind.Add, "c", 1);
        recorder.Complete(pending, OperationOutcome.Ok);

        Assert.Throws<InvalidOperationException>(() => recorder.Complete(pending, OperationOutcome.Ok));
    }

    [Fact]
    public void Operations_before_an_origin_set_later_have_negative_times()
    {
        var recorder = new HistoryRecorder(Stopwatch.GetTimestamp());
        var pending = recorder.Invoke(Operation.Prepare, OperationKind.Write, "p", 1);
        recorder.Complete(pending, OperationOutcome.Ok);

        recorder.Origin = pending.InvokedTimestamp + Stopwatch.Frequency;

        var operation = Assert.Single(recorder.Snapshot().Operations);
        Assert.True(operation.InvokedAt < TimeSpan.Zero);
        Assert.StartsWith("#1 prepare write p = 1 ok [-1.000 s", operation.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Many_clients_record_at_once_with_unique_indexes()
    {
        var recorder = new HistoryRecorder(Stopwatch.GetTimestamp());

        await Task.WhenAll(Enumerable.Range(0, 8).Select(client => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                recorder.Complete(recorder.Invoke(client, OperationKind.Add, $"c{client % 2}", 1), OperationOutcome.Ok);
            }
        })));

        var history = recorder.Snapshot();
        Assert.Equal(8000, history.Operations.Select(o => o.Index).Distinct().Count());
        Assert.Equal(history.Operations.Select(o => o.Index).Order(), history.Operations.Select(o => o.Index));
    }
}
