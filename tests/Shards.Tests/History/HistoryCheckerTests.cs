using System.Diagnostics;
using Shards.History;

namespace Shards.Tests.History;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class HistoryCheckerTests
{
    [Fact]
    public void Each_key_is_checked_by_its_model_and_only_the_clients_operations_are_counted()
    {
        var recorder = new HistoryRecorder(Stopwatch.GetTimestamp());
        recorder.Declare("product", KeyModel.Register, 0);
        recorder.Declare("cart", KeyModel.Counter, 3);
        recorder.Complete(recorder.Invoke(0, OperationKind.Write, "product", 1), OperationOutcome.Ok);
        recorder.Complete(recorder.Invoke(1, OperationKind.Add, "cart", 1), OperationOutcome.Ok);
        recorder.Complete(recorder.Invoke(1, OperationKind.Add, "cart", 1), OperationOutcome.Failed, error: "Validation");
        recorder.Invoke(2, OperationKind.Add, "cart", 1); // never completes: unknown
        recorder.Complete(recorder.Invoke(Operation.ReadBack, OperationKind.Read, "product"), OperationOutcome.Ok, readValue: 1);
        recorder.Complete(recorder.Invoke(Operation.ReadBack, OperationKind.Read, "cart"), OperationOutcome.Ok, readValue: 5);

        var check = HistoryChecker.Check(recorder.Snapshot());

        Assert.Equal((2L, 1L, 1L, 2L), (check.OperationsOk, check.OperationsFailed, check.OperationsUnknown, check.FinalReads));
        Assert.True(check.Passed, string.Join(Environment.NewLine, check.Checkers.SelectMany(c => c.Violations)));
        Assert.Equal([(RegisterChecker.Name, 1, 2L), (CounterChecker.Name, 1, 4L)], check.Checkers.Select(c => (c.Checker, c.Keys, c.Operations)));
    }

    [Fact]
    public void Violations_are_counted_per_rule_and_the_earliest_are_kept()
    {
        var recorder = new HistoryRecorder(Stopwatch.GetTimestamp());
        for (var cart = 0; cart < HistoryChecker.MaxViolationsKept + 5; cart++)
        {
            recorder.Declare($"cart-{cart}", KeyModel.Counter, 0);
            recorder.Complete(recorder.Invoke(0, OperationKind.Add, $"cart-{cart}", 1), OperationOutcome.Ok);
            recorder.Complete(recorder.Invoke(Operation.ReadBack, OperationKind.Read, $"cart-{cart}"), OperationOutcome.Ok, readValue: 2);
        }

        var check = HistoryChecker.Check(recorder.Snapshot());

        var counters = Assert.Single(check.Checkers, c => c.Checker == CounterChecker.Name);
        Assert.False(check.Passed);
        Assert.Equal(HistoryChecker.MaxViolationsKept + 5, counters.ViolationCount);
        Assert.Equal(HistoryChecker.MaxViolationsKept + 5, counters.ByRule[CounterChecker.FinalDuplicated]);
        Assert.Equal(HistoryChecker.MaxViolationsKept, counters.Violations.Count);
        Assert.Equal("cart-0", counters.Violations[0].Key);
        Assert.True(Assert.Single(check.Checkers, c => c.Checker == RegisterChecker.Name).Passed);
    }

    [Fact]
    public void Many_violations_of_one_rule_do_not_hide_the_first_of_another()
    {
        var recorder = new HistoryRecorder(Stopwatch.GetTimestamp());
        recorder.Declare("cart", KeyModel.Counter, 0);
        recorder.Complete(recorder.Invoke(0, OperationKind.Add, "cart", 1), OperationOutcome.Ok);
        for (var read = 0; read < HistoryChecker.MaxViolationsKept * 2; read++)
        {
            recorder.Complete(recorder.Invoke(1, OperationKind.Read, "cart"), OperationOutcome.Ok, readValue: 2); // too high
        }

        recorder.Complete(recorder.Invoke(Operation.ReadBack, OperationKind.Read, "cart"), OperationOutcome.Ok, readValue: 0); // lost, and lower than before

        var counters = Assert.Single(HistoryChecker.Check(recorder.Snapshot()).Checkers, c => c.Checker == CounterChecker.Name);

        Assert.Equal(HistoryChecker.MaxViolationsKept * 2, counters.ByRule[CounterChecker.ReadTooHigh]);
        Assert.Equal(HistoryChecker.MaxViolationsKept, counters.Violations.Count);
        Assert.Contains(counters.Violations, v => v.Rule == CounterChecker.FinalLost);
        Assert.Equal(counters.Violations.OrderBy(v => v.At), counters.Violations);
    }

    [Fact]
    public void An_undeclared_key_with_adds_is_a_counter_from_zero_and_one_without_is_a_register_without_value()
    {
        var recorder = new HistoryRecorder(Stopwatch.GetTimestamp());
        recorder.Complete(recorder.Invoke(0, OperationKind.Add, "c", 1), OperationOutcome.Ok);
        recorder.Complete(recorder.Invoke(0, OperationKind.Read, "c"), OperationOutcome.Ok, readValue: 1);
        recorder.Complete(recorder.Invoke(0, OperationKind.Read, "r"), OperationOutcome.Ok, readValue: null);

        Assert.True(HistoryChecker.Check(recorder.Snapshot()).Passed);
    }
}
