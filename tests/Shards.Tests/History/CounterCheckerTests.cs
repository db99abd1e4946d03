using Shards.History;

namespace Shards.Tests.History;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class CounterCheckerTests
{
    [Fact]
    public void Reads_of_exactly_the_acknowledged_adds_pass()
    {
        var history = new HistoryBuilder()
            .Read(5, 0, 0.5)
            .Increment(1, 2)
            .Read(6, 3, 4)
            .Increment(5, 6)
            .Increment(5, 6.5)
            .Read(8, 7, 8)
            .FinalRead(8, 10);

        Assert.Empty(history.CheckCounter(initial: 5));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void A_read_overlapping_an_add_may_see_it_or_not(long value)
    {
        var history = new HistoryBuilder().Increment(2, 4).Read(value, 1, 3);

        Assert.Empty(history.CheckCounter());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void An_add_of_unknown_outcome_may_or_may_not_have_been_applied(long final)
    {
        var history = new HistoryBuilder().Increment(0, 1).Increment(1, 2).Increment(2, 3, OperationOutcome.Unknown).FinalRead(final, 10);

        Assert.Empty(history.CheckCounter());
    }

    [Fact]
    public void An_add_given_up_on_may_be_applied_after_the_run()
    {
        var history = new HistoryBuilder().Increment(0, 1).Increment(2, null, OperationOutcome.Unknown).Read(1, 3, 4).Read(2, 20, 21).FinalRead(2, 30);

        Assert.Empty(history.CheckCounter());
    }

    [Fact]
    public void A_final_quantity_below_the_acknowledged_adds_is_a_lost_add()
    {
        var history = new HistoryBuilder().Increment(0, 1).Increment(1, 2).Increment(2, 3).FinalRead(12, 10);

        var violation = Assert.Single(history.CheckCounter(initial: 10));

        Assert.Equal((CounterChecker.Name, CounterChecker.FinalLost), (violation.Checker, violation.Rule));
        Assert.Contains("expected at least 13", violation.Message, StringComparison.Ordinal);
        Assert.Equal([history[3], history[0], history[1], history[2]], violation.Operations);
    }

    [Fact]
    public void A_read_below_the_adds_acknowledged_before_it_began_is_reported()
    {
        var history = new HistoryBuilder().Increment(0, 1).Increment(2, 3).Read(1, 4, 5).Read(2, 6, 7);

        var violation = Assert.Single(history.CheckCounter());

        Assert.Equal(CounterChecker.ReadTooLow, violation.Rule);
        Assert.Equal(history[2], violation.Operations[0]);
    }

    [Fact]
    public void An_add_applied_twice_shows_in_reads_and_in_the_final_quantity()
    {
        var history = new HistoryBuilder().Increment(0, 1).Increment(2, 3).Read(3, 4, 5).FinalRead(3, 10);

        var violations = history.CheckCounter();

        Assert.Equal([CounterChecker.ReadTooHigh, CounterChecker.FinalDuplicated], violations.Select(v => v.Rule));
        Assert.Contains("at most 2 is possible", violations[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_cannot_see_an_add_invoked_after_it_completed()
    {
        var history = new HistoryBuilder().Read(1, 0, 1).Increment(2, 3);

        Assert.Equal(CounterChecker.ReadTooHigh, Assert.Single(history.CheckCounter()).Rule);
    }

    [Fact]
    public void An_add_that_failed_definitely_counts_for_neither_bound()
    {
        var passing = new HistoryBuilder().Increment(0, 1).Increment(1, 2, OperationOutcome.Failed).FinalRead(1, 10);
        var failedButApplied = new HistoryBuilder().Increment(0, 1).Increment(1, 2, OperationOutcome.Failed).FinalRead(2, 10);

        Assert.Empty(passing.CheckCounter());
        var violation = Assert.Single(failedButApplied.CheckCounter());
        Assert.Equal(CounterChecker.FinalDuplicated, violation.Rule);
        Assert.Contains("1 add(s) failed definitely", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_lower_than_an_earlier_read_is_reported_even_within_the_bounds()
    {
        // Both reads are within [acknowledged, acknowledged + unknown]; but the unknown add, once seen, cannot vanish.
        var history = new HistoryBuilder().Increment(0, null, OperationOutcome.Unknown).Read(1, 1, 2).Read(0, 3, 4);

        var violation = Assert.Single(history.CheckCounter());

        Assert.Equal(CounterChecker.ReadDecreased, violation.Rule);
        Assert.Equal([history[2], history[1]], violation.Operations);
    }

    [Fact]
    public void Overlapping_reads_may_see_adds_in_either_order()
    {
        var history = new HistoryBuilder().Increment(0, 5).Read(1, 1, 4).Read(0, 2, 3);

        Assert.Empty(history.CheckCounter());
    }

    [Fact]
    public void An_add_without_a_positive_amount_is_refused_as_input()
    {
        var history = new HistoryBuilder().Increment(0, 1, amount: 0);

        Assert.Throws<ArgumentException>(() => history.CheckCounter());
    }
}
