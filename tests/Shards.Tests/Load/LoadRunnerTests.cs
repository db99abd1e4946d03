using Shards.Load;

namespace Shards.Tests.Load;

/// <summary>The runner's bookkeeping against an in-memory store with injected faults (no cluster, no timing).</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public class LoadRunnerTests
{
    /// <summary>Cart calls only, so that counts of cart reads and writes add up to the requests.</summary>
    private static readonly LoadOptions FourClientsFiftyRequests = new() { Concurrency = 4, RequestsPerClient = 50, Keys = 10, WritePercent = 50, ProductPercent = 0 };

    [Fact]
    public async Task A_healthy_store_gets_every_request_and_passes_the_write_check()
    {
        var report = await new LoadRunner(new InMemoryLoadTarget(), FourClientsFiftyRequests).RunAsync(CancellationToken.None);

        Assert.Equal(200, report.Transactions);
        Assert.Equal((200, 0, 100.0), (report.SuccessfulTransactions, report.FailedTransactions, report.Availability));
        Assert.Equal(200, report.Reads.Ok + report.Writes.Ok);
        Assert.Equal(report.Writes.Ok, report.WriteCheck.Acknowledged);
        Assert.Equal((0, 0, 0), (report.WriteCheck.Lost, report.WriteCheck.Duplicated, report.WriteCheck.CartsUnreadable));
        Assert.True(report.Passed);
        Assert.Equal(200, report.PerSilo.Sum(s => s.Transactions));
        Assert.All(report.PerSilo, s => Assert.StartsWith("silo-", s.Silo, StringComparison.Ordinal));
        Assert.Equal(200, report.Timeline.Sum(s => s.Ok));
        Assert.Equal(200, report.ResponseTime!.Count);
        Assert.Null(report.Chaos);
    }

    [Fact]
    public async Task Only_writes_with_writes_at_100_percent_and_only_reads_at_0()
    {
        var writes = await new LoadRunner(new InMemoryLoadTarget(), FourClientsFiftyRequests with { WritePercent = 100 }).RunAsync(CancellationToken.None);
        var reads = await new LoadRunner(new InMemoryLoadTarget(), FourClientsFiftyRequests with { WritePercent = 0 }).RunAsync(CancellationToken.None);

        Assert.Equal((0, 200), (writes.Reads.Ok, writes.Writes.Ok));
        Assert.Equal((200, 0), (reads.Reads.Ok, reads.Writes.Ok));
        Assert.Equal(0, reads.WriteCheck.CartsChecked);
    }

    [Fact]
    public async Task Failed_writes_that_landed_anyway_are_ambiguous_not_duplicated()
    {
        var target = new InMemoryLoadTarget { Faults = n => n % 10 == 0 ? WriteFault.FailAfterApplying : WriteFault.None };

        var report = await new LoadRunner(target, FourClientsFiftyRequests with { WritePercent = 100 }).RunAsync(CancellationToken.None);

        Assert.Equal(20, report.FailedTransactions);
        Assert.Equal(90.0, report.Availability);
        Assert.Equal((180, 20, 20), (report.WriteCheck.Acknowledged, report.WriteCheck.Failed, report.WriteCheck.FailedButApplied));
        Assert.Equal((0, 0), (report.WriteCheck.Lost, report.WriteCheck.Duplicated));
        Assert.True(report.Passed);
        var failure = Assert.Single(report.Failures);
        Assert.Equal(("TimeoutException", 20), (failure.Kind, failure.Count));
    }

    [Fact]
    public async Task Failed_writes_that_did_not_land_are_ambiguous_not_lost()
    {
        var target = new InMemoryLoadTarget { Faults = n => n % 7 == 0 ? WriteFault.FailBeforeApplying : WriteFault.None };

        var report = await new LoadRunner(target, FourClientsFiftyRequests with { WritePercent = 100 }).RunAsync(CancellationToken.None);

        Assert.Equal(28, report.WriteCheck.Failed);
        Assert.Equal((0, 0, 0), (report.WriteCheck.FailedButApplied, report.WriteCheck.Lost, report.WriteCheck.Duplicated));
        Assert.True(report.Passed);
    }

    [Fact]
    public async Task A_write_applied_twice_is_reported_as_duplicated()
    {
        var target = new InMemoryLoadTarget { Faults = n => n == 5 ? WriteFault.ApplyTwice : WriteFault.None };

        var report = await new LoadRunner(target, FourClientsFiftyRequests with { WritePercent = 100 }).RunAsync(CancellationToken.None);

        Assert.Equal((0, 1), (report.WriteCheck.Lost, report.WriteCheck.Duplicated));
        Assert.False(report.Passed);
    }

    [Fact]
    public async Task An_acknowledged_write_that_never_landed_is_reported_as_lost()
    {
        var target = new InMemoryLoadTarget { Faults = n => n is 3 or 30 ? WriteFault.AcknowledgeWithoutApplying : WriteFault.None };

        var report = await new LoadRunner(target, FourClientsFiftyRequests with { WritePercent = 100 }).RunAsync(CancellationToken.None);

        Assert.Equal((2, 0), (report.WriteCheck.Lost, report.WriteCheck.Duplicated));
        Assert.False(report.Passed);
    }

    [Fact]
    public async Task A_rerun_starts_from_the_carts_as_they_are()
    {
        var target = new InMemoryLoadTarget();
        var options = FourClientsFiftyRequests with { WritePercent = 100, Keys = 3 };

        var first = await new LoadRunner(target, options).RunAsync(CancellationToken.None);
        var second = await new LoadRunner(target, options).RunAsync(CancellationToken.None);

        Assert.True(first.Passed);
        Assert.True(second.Passed);
        var workload = new LoadWorkload(3);
        Assert.Equal(400, Enumerable.Range(0, 3).Sum(cart => Enumerable.Range(0, workload.SkusPerCart).Sum(slot => target.Quantity(LoadWorkload.CartId(cart), workload.SkuOf(cart, slot)))));
    }

    [Fact]
    public async Task A_line_near_the_cart_maximum_is_emptied_before_the_run()
    {
        var target = new InMemoryLoadTarget();
        var workload = new LoadWorkload(1);
        target.Set(LoadWorkload.CartId(0), workload.SkuOf(0, 2), LoadWorkload.ResetLineAbove + 1);

        var report = await new LoadRunner(target, FourClientsFiftyRequests with { Keys = 1, WritePercent = 100 }).RunAsync(CancellationToken.None);

        Assert.True(report.Passed);
        Assert.Equal(200, Enumerable.Range(0, workload.SkusPerCart).Sum(slot => target.Quantity(LoadWorkload.CartId(0), workload.SkuOf(0, slot))));
    }

    [Fact]
    public async Task A_stop_request_ends_the_run_early_and_still_reports()
    {
        using var stop = new CancellationTokenSource();
        var target = new InMemoryLoadTarget
        {
            // Write 100 asks to stop; writes that still start before the clients notice fail, so exactly 100 succeed.
            Faults = n =>
            {
                if (n == 100)
                {
                    stop.Cancel();
                }

                return n > 100 ? WriteFault.FailBeforeApplying : WriteFault.None;
            },
        };

        var report = await new LoadRunner(target, new LoadOptions { Concurrency = 2, Duration = TimeSpan.FromHours(1), Keys = 5, WritePercent = 100, ProductPercent = 0 }).RunAsync(stop.Token);

        Assert.True(report.StoppedEarly);
        Assert.True(report.Passed);
        Assert.Equal(100, report.Transactions);
        Assert.Equal(target.Writes - 100, report.FailedTransactions);
    }

    [Fact]
    public async Task A_call_that_never_answers_is_given_up_on_as_a_failed_write_of_unknown_outcome()
    {
        var target = new InMemoryLoadTarget { Faults = n => n == 10 ? WriteFault.NeverAnswer : WriteFault.None };
        var options = new LoadOptions { Concurrency = 2, Duration = TimeSpan.FromSeconds(1), Keys = 5, WritePercent = 100, ProductPercent = 0 };

        var report = await new LoadRunner(target, options) { GiveUpAfter = TimeSpan.FromMilliseconds(100) }.RunAsync(CancellationToken.None);

        var failure = Assert.Single(report.Failures);
        Assert.Equal(("NoAnswer", 1), (failure.Kind, failure.Count));
        Assert.Equal((1, 1), (report.FailedTransactions, report.WriteCheck.Failed));
        Assert.Equal((0, 0, 0), (report.WriteCheck.FailedButApplied, report.WriteCheck.Lost, report.WriteCheck.Duplicated));
        Assert.True(report.Passed);
        Assert.Equal(report.Transactions + 1, report.Timeline.Sum(s => s.Ok + s.Failed));
    }

    [Fact]
    public async Task A_kill_is_recorded_with_the_carts_of_the_killed_silo_and_their_recovery()
    {
        var target = new InMemoryLoadTarget();
        var chaos = new PretendKill(() => target.MovedAway = "silo-1");
        var options = new LoadOptions { Concurrency = 2, Duration = TimeSpan.FromSeconds(2), ChaosAt = TimeSpan.FromSeconds(0.5), Chaos = [ChaosMode.Kill], Keys = 30 };
        var onSilo1 = Enumerable.Range(0, 30).Count(cart => target.LocateCartAsync(LoadWorkload.CartId(cart), default).Result == "silo-1");

        var report = await new LoadRunner(target, options, chaos).RunAsync(CancellationToken.None);

        var chaosReport = Assert.IsType<ChaosReport>(report.Chaos);
        var kill = Assert.Single(chaosReport.Events);
        Assert.Equal("SIGKILL", kill.Action);
        Assert.Equal($"silo-1 (pid 1), hosting {onSilo1} of 30 carts", kill.Detail);
        var recovery = Assert.IsType<KillRecovery>(chaosReport.Recovery);
        Assert.Equal(("silo-1", onSilo1), (recovery.Silo, recovery.Carts));
        Assert.Equal(onSilo1, recovery.Recovered + recovery.NotRecovered);
        Assert.True(recovery.Callers <= options.Concurrency, "only calls in flight at the kill count as callers");
        Assert.True(report.Passed);
    }

    private sealed class PretendKill(Action strike) : IChaos
    {
        public Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken)
        {
            strike();
            return Task.FromResult(new ChaosAction("SIGKILL", "silo-1 (pid 1)", "silo-1"));
        }

        public async Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The run ended.
            }
        }
    }
}
