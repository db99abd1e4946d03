using Shards.History;

namespace Shards.Tests.History;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class RegisterCheckerTests
{
    [Fact]
    public void Reads_of_the_latest_acknowledged_value_pass()
    {
        var history = new HistoryBuilder()
            .Read(0, 0, 0.5)
            .Write(1, 1, 2)
            .Read(1, 3, 4)
            .Write(2, 5, 6)
            .Read(2, 7, 8)
            .FinalRead(2, 10);

        Assert.Empty(history.CheckRegister(initial: 0));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void A_read_overlapping_a_write_may_return_the_old_or_the_new_value(long value)
    {
        var history = new HistoryBuilder().Write(1, 1, 4).Read(value, 2, 3);

        Assert.Empty(history.CheckRegister(initial: 0));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void After_two_overlapping_writes_either_value_may_be_the_final_one(long value)
    {
        var history = new HistoryBuilder().Write(1, 0, 10).Write(2, 2, 8).Read(value, 11, 12).FinalRead(value, 20);

        Assert.Empty(history.CheckRegister());
    }

    [Fact]
    public void A_read_that_overlaps_the_overwriting_write_may_still_return_the_overwritten_value()
    {
        var history = new HistoryBuilder().Write(1, 0, 1).Write(2, 2, 5).Read(1, 3, 6);

        Assert.Empty(history.CheckRegister());
    }

    [Fact]
    public void A_write_of_unknown_outcome_may_take_effect_late_even_after_later_acknowledged_writes()
    {
        var history = new HistoryBuilder()
            .Write(1, 0, 1)
            .UnknownWrite(2, 2, gaveUp: 2.5)
            .Write(3, 3, 4)
            .Read(3, 4.5, 4.6)
            .Read(2, 5, 6)
            .FinalRead(2, 10);

        Assert.Empty(history.CheckRegister());
    }

    [Fact]
    public void The_final_value_may_be_the_last_acknowledged_one_though_a_later_write_had_an_unknown_outcome()
    {
        var history = new HistoryBuilder().Write(1, 0, 1).UnknownWrite(2, 2).FinalRead(1, 10);

        Assert.Empty(history.CheckRegister());
    }

    [Fact]
    public void A_read_of_an_overwritten_value_is_stale()
    {
        var history = new HistoryBuilder().Write(1, 0, 1).Write(2, 2, 3).Read(1, 4, 5);

        var violation = Assert.Single(history.CheckRegister());

        Assert.Equal((RegisterChecker.Name, RegisterChecker.StaleRead, "k"), (violation.Checker, violation.Rule, violation.Key));
        Assert.Equal([history[2], history[0], history[1]], violation.Operations);
        Assert.Contains("read 1, but 2 had overwritten 1", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_of_the_initial_value_after_an_acknowledged_write_is_stale()
    {
        var history = new HistoryBuilder().Write(1, 0, 1).Read(0, 2, 3);

        var violation = Assert.Single(history.CheckRegister(initial: 0));

        Assert.Equal(RegisterChecker.StaleRead, violation.Rule);
        Assert.Contains("the value before the run", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_older_value_read_after_two_overlapping_writes_and_a_third_one_is_stale()
    {
        var history = new HistoryBuilder().Write(1, 0, 10).Write(2, 2, 8).Write(3, 11, 12).Read(2, 13, 14);

        Assert.Equal(RegisterChecker.StaleRead, Assert.Single(history.CheckRegister()).Rule);
    }

    [Fact]
    public void A_write_of_unknown_outcome_seen_by_a_read_cannot_come_back_after_a_later_write()
    {
        // The read at 1-2 proves the unknown write took effect by 2; the write of 2 began after that and was acknowledged.
        var history = new HistoryBuilder().UnknownWrite(1, 0).Read(1, 1, 2).Write(2, 3, 4).Read(1, 5, 6);

        var violation = Assert.Single(history.CheckRegister());

        Assert.Equal(RegisterChecker.StaleRead, violation.Rule);
        Assert.Equal([history[3], history[0], history[2]], violation.Operations);
    }

    [Fact]
    public void A_read_of_a_value_no_write_wrote_is_reported()
    {
        var history = new HistoryBuilder().Write(1, 0, 1).Read(7, 2, 3);

        var violation = Assert.Single(history.CheckRegister());

        Assert.Equal(RegisterChecker.ReadUnwritten, violation.Rule);
        Assert.Equal([history[1]], violation.Operations);
    }

    [Fact]
    public void A_read_of_nothing_when_the_register_had_a_value_is_reported()
    {
        var history = new HistoryBuilder().Read(null, 0, 1);

        Assert.Equal(RegisterChecker.ReadUnwritten, Assert.Single(history.CheckRegister(initial: 0)).Rule);
        Assert.Empty(new HistoryBuilder().Read(null, 0, 1).CheckRegister(initial: null));
    }

    [Fact]
    public void A_read_of_a_value_whose_write_failed_definitely_is_reported_even_while_it_runs()
    {
        var history = new HistoryBuilder().Write(1, 0, 4, OperationOutcome.Failed).Read(1, 1, 2);

        var violation = Assert.Single(history.CheckRegister());

        Assert.Equal(RegisterChecker.ReadFailedWrite, violation.Rule);
        Assert.Equal([history[1], history[0]], violation.Operations);
    }

    [Fact]
    public void A_failed_write_never_makes_a_read_stale()
    {
        var history = new HistoryBuilder().Write(1, 0, 1).Write(2, 2, 3, OperationOutcome.Failed).Read(1, 4, 5).FinalRead(1, 10);

        Assert.Empty(history.CheckRegister());
    }

    [Fact]
    public void A_read_that_completed_before_its_value_was_written_is_reported()
    {
        var history = new HistoryBuilder().Read(1, 0, 1).Write(1, 2, 3);

        var violation = Assert.Single(history.CheckRegister());

        Assert.Equal(RegisterChecker.ReadBeforeWrite, violation.Rule);
        Assert.Equal([history[0], history[1]], violation.Operations);
    }

    [Fact]
    public void A_final_value_older_than_the_last_acknowledged_write_is_reported()
    {
        var history = new HistoryBuilder().Write(1, 0, 1).Write(2, 2, 3).FinalRead(1, 10);

        var violation = Assert.Single(history.CheckRegister());

        Assert.Equal(RegisterChecker.FinalValue, violation.Rule);
        Assert.True(violation.Operations[0].IsFinal);
        Assert.Contains("the final value is 1", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_writes_of_the_same_value_are_refused_as_input()
    {
        var history = new HistoryBuilder().Write(1, 0, 1).Write(1, 2, 3);

        Assert.Throws<ArgumentException>(() => history.CheckRegister());
    }
}
