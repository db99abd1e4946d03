using Shards.Load;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Load;

/// <summary><c>shards load</c>'s runner through the real Orleans client against three in-process silos on PostgreSQL.</summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class LoadRunnerClusterTests(PostgresClusterFixture fixture) : IClassFixture<PostgresClusterFixture>
{
    [Fact(Timeout = 120_000)]
    public async Task A_short_run_without_chaos_succeeds_loses_and_doubles_nothing_and_has_a_clean_history()
    {
        var target = new OrleansLoadTarget(fixture.Cluster.Client);
        var options = new LoadOptions { Concurrency = 4, Duration = TimeSpan.FromSeconds(3), Keys = 50, WritePercent = 50 };

        var report = await new LoadRunner(target, options).RunAsync(CancellationToken.None);

        Assert.True(report.Transactions > 0);
        Assert.Equal(0, report.FailedTransactions);
        Assert.True(report.Writes.Ok > 0, "no write in a 3 s run at 50 % writes");
        Assert.Equal(report.Writes.Ok, report.WriteCheck.Acknowledged);
        Assert.Equal((0, 0, 0, 0), (report.WriteCheck.Lost, report.WriteCheck.Duplicated, report.WriteCheck.Failed, report.WriteCheck.CartsUnreadable));
        Assert.True(report.Passed);
        Assert.True(report.History!.Passed, string.Join(Environment.NewLine, report.History.Checkers.SelectMany(c => c.Violations)));
        Assert.True(report.ProductWrites!.Ok > 0 && report.ProductReads!.Ok > 0, "no product call in a 3 s run at 10 %");
        Assert.Equal(0, report.History.OperationsFailed + report.History.OperationsUnknown);
        Assert.Equal(report.Reads.Ok + report.Writes.Ok, report.PerSilo.Sum(s => s.Transactions));
        Assert.DoesNotContain(report.PerSilo, s => s.Silo == "(unknown)");
        Assert.Equal("orleans", report.Target);
    }
}
