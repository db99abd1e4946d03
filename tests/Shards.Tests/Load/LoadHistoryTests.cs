using Shards.History;
using Shards.Load;

namespace Shards.Tests.Load;

/// <summary>
/// <c>shards load</c>'s history, recorded by the runner and checked at the end, against an in-memory store that is
/// correct or faulty in one precise way (no cluster, no timing).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public class LoadHistoryTests
{
    private static readonly LoadOptions Mixed = new() { Concurrency = 4, RequestsPerClient = 100, Keys = 5, WritePercent = 50, ProductPercent = 30 };

    [Fact]
    public void The_default_mix_puts_some_requests_on_products()
    {
        var options = new LoadOptions().WithDefaults();

        Assert.InRange(options.ProductPercent, 1, 49);
    }

    [Fact]
    public async Task A_correct_store_gives_a_history_without_violations_covering_every_call_and_the_read_back()
    {
        var report = await new LoadRunner(new InMemoryLoadTarget(), Mixed).RunAsync(CancellationToken.None);

        var history = Assert.IsType<HistoryCheck>(report.History);
        Assert.True(report.Passed);
        Assert.True(history.Passed, string.Join(Environment.NewLine, history.Checkers.SelectMany(c => c.Violations)));
        Assert.Equal((0, 0), (history.OperationsFailed, history.OperationsUnknown));
        var products = report.ProductReads!.Ok + report.ProductWrites!.Ok;
        Assert.True(products > 0 && report.ProductWrites.Ok > 0, "no product call in 400 requests at 30 %");
        // A cart read is a read of each of its 5 lines; the rest are one operation each.
        Assert.Equal(report.Writes.Ok + products + (5 * report.Reads.Ok), history.OperationsOk);
        var registers = Assert.Single(history.Checkers, c => c.Checker == RegisterChecker.Name);
        var counters = Assert.Single(history.Checkers, c => c.Checker == CounterChecker.Name);
        Assert.Equal(LoadWorkload.Products, registers.Keys);
        var slots = new LoadWorkload(Mixed.Keys).SkusPerCart;
        Assert.Equal(5 * slots, counters.Keys);
        Assert.Equal(LoadWorkload.Products + (5 * slots), history.FinalReads);
    }

    [Fact]
    public async Task An_add_applied_twice_is_a_counter_violation_naming_the_line()
    {
        var target = new InMemoryLoadTarget { Faults = n => n == 5 ? WriteFault.ApplyTwice : WriteFault.None };

        var report = await new LoadRunner(target, Mixed).RunAsync(CancellationToken.None);

        Assert.False(report.Passed);
        var counters = Assert.Single(report.History!.Checkers, c => c.Checker == CounterChecker.Name);
        Assert.Equal(1, counters.ByRule[CounterChecker.FinalDuplicated]);
        var final = Assert.Single(counters.Violations, v => v.Rule == CounterChecker.FinalDuplicated);
        Assert.StartsWith("cart load-cart-", final.Key, StringComparison.Ordinal);
        Assert.True(final.Operations[0].IsFinal);
        Assert.Contains("1 too many", final.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_acknowledged_add_that_never_landed_is_a_lost_add_in_the_history()
    {
        var target = new InMemoryLoadTarget { Faults = n => n == 3 ? WriteFault.AcknowledgeWithoutApplying : WriteFault.None };

        var report = await new LoadRunner(target, Mixed).RunAsync(CancellationToken.None);

        var counters = Assert.Single(report.History!.Checkers, c => c.Checker == CounterChecker.Name);
        Assert.Equal(1, counters.ByRule[CounterChecker.FinalLost]);
        Assert.False(report.Passed);
    }

    [Fact]
    public async Task A_stale_product_read_is_a_register_violation()
    {
        // One client, one product: every read after a write returns the value that write replaced.
        var target = new InMemoryLoadTarget { ProductReadFaults = _ => ReadFault.Stale };
        var options = new LoadOptions { Concurrency = 1, RequestsPerClient = 60, Keys = 1, WritePercent = 50, ProductPercent = 100 };

        var report = await new LoadRunner(target, options).RunAsync(CancellationToken.None);

        Assert.False(report.Passed);
        Assert.True(report.WriteCheck.Passed);
        var registers = Assert.Single(report.History!.Checkers, c => c.Checker == RegisterChecker.Name);
        Assert.True(registers.ByRule.GetValueOrDefault(RegisterChecker.StaleRead) > 0, string.Join(", ", registers.ByRule));
        Assert.Equal(1, registers.ByRule[RegisterChecker.FinalValue]);
        var stale = registers.Violations[0];
        Assert.Equal("product load-sku-001", stale.Key);
        Assert.Equal(3, stale.Operations.Count);
        Assert.Equal([OperationKind.Read, OperationKind.Write, OperationKind.Write], stale.Operations.Select(o => o.Kind));
    }

    [Fact]
    public async Task A_domain_refusal_is_a_definite_failure_and_a_refused_add_that_landed_is_a_violation()
    {
        var honest = new InMemoryLoadTarget { Faults = n => n % 10 == 0 ? WriteFault.Refuse : WriteFault.None };
        var lying = new InMemoryLoadTarget { Faults = n => n == 10 ? WriteFault.RefuseAfterApplying : WriteFault.None };
        var allAdds = Mixed with { WritePercent = 100, ProductPercent = 0 };

        var refused = await new LoadRunner(honest, allAdds).RunAsync(CancellationToken.None);
        var applied = await new LoadRunner(lying, allAdds).RunAsync(CancellationToken.None);

        Assert.Equal((40, 0), (refused.History!.OperationsFailed, refused.History.OperationsUnknown));
        Assert.Equal(0, refused.WriteCheck.Failed); // a refused add may not have landed: it explains no extra unit
        Assert.True(refused.Passed);
        Assert.False(applied.Passed);
        Assert.Equal(1, applied.WriteCheck.Duplicated);
        Assert.Equal(1, Assert.Single(applied.History!.Checkers, c => c.Checker == CounterChecker.Name).ByRule[CounterChecker.FinalDuplicated]);
    }

    [Fact]
    public async Task Calls_of_unknown_outcome_that_landed_are_no_violation()
    {
        var target = new InMemoryLoadTarget { Faults = n => n % 7 == 0 ? WriteFault.FailAfterApplying : n % 11 == 0 ? WriteFault.FailBeforeApplying : WriteFault.None };

        var report = await new LoadRunner(target, Mixed).RunAsync(CancellationToken.None);

        Assert.True(report.History!.OperationsUnknown > 0);
        Assert.True(report.Passed, string.Join(Environment.NewLine, report.History.Checkers.SelectMany(c => c.Violations)));
    }

    [Fact]
    public async Task The_hot_nemesis_puts_every_client_on_one_cart_and_one_product_then_spreads_them_again()
    {
        var options = new LoadOptions
        {
            Concurrency = 4, Duration = TimeSpan.FromSeconds(1.5), Keys = 1000, Chaos = [ChaosMode.Hot], ChaosAt = TimeSpan.FromSeconds(0.3), HotFor = TimeSpan.FromSeconds(0.6),
        };

        var target = new InMemoryLoadTarget();

        var report = await new LoadRunner(target, options).RunAsync(CancellationToken.None);

        var chaos = Assert.IsType<ChaosReport>(report.Chaos);
        Assert.Equal(["hot", "cooled"], chaos.Events.Select(e => e.Action));
        Assert.Contains("every client on load-cart-00001 and load-sku-001", chaos.Events[0].Detail, StringComparison.Ordinal);
        Assert.True(report.Passed, string.Join(Environment.NewLine, report.History!.Checkers.SelectMany(c => c.Violations)));
        // Hot for 0.6 s of 1.5 s: the first cart got far more than its 1/1000 share of the adds.
        var workload = new LoadWorkload(options.Keys);
        int Added(int cart) => Enumerable.Range(0, workload.SkusPerCart).Sum(slot => target.Quantity(LoadWorkload.CartId(cart), workload.SkuOf(cart, slot)));
        var all = Enumerable.Range(0, 1000).Sum(Added);
        Assert.True(Added(0) > all / 10, $"cart 1 got {Added(0)} of {all} units");
    }

    [Fact]
    public async Task A_nemesis_that_holds_the_run_keeps_the_clients_going_and_every_nemesis_is_healed()
    {
        var holding = new PretendNemesis(holds: true, watchFor: TimeSpan.FromSeconds(2));
        var failing = new PretendNemesis(holds: false, watchFor: TimeSpan.Zero, failWatch: true);
        var options = new LoadOptions { Concurrency = 2, Duration = TimeSpan.FromSeconds(1), Keys = 10, Chaos = [ChaosMode.Reshard, ChaosMode.Kill] };

        var report = await new LoadRunner(new InMemoryLoadTarget(), options, new Dictionary<ChaosMode, IChaos> { [ChaosMode.Reshard] = holding, [ChaosMode.Kill] = failing })
            .RunAsync(CancellationToken.None);

        Assert.True(report.ElapsedSeconds > 2, $"the run ended after {report.ElapsedSeconds} s, before the holding nemesis was done");
        Assert.NotNull(report.Chaos!.ExtendedSeconds);
        Assert.Contains(report.Chaos.Events, e => e.Action == "kill FAILED" && e.Nemesis == "kill");
        Assert.True(holding.Healed > 0 && failing.Healed > 0);
        Assert.True(report.Passed);
    }

    private sealed class PretendNemesis(bool holds, TimeSpan watchFor, bool failWatch = false) : IChaos
    {
        private int _healed;

        public int Healed => Volatile.Read(ref _healed);

        public bool HoldsTheRun => holds;

        public Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken) => Task.FromResult(new ChaosAction("pretend", "struck"));

        public async Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
        {
            if (failWatch)
            {
                throw new InvalidOperationException("pretend: the nemesis broke");
            }

            await Task.Delay(watchFor, cancellationToken);
            onChange(new ChaosAction("pretend done", "healed"));
        }

        public Task HealAsync()
        {
            Interlocked.Increment(ref _healed);
            return Task.CompletedTask;
        }
    }
}
