using Shards.Load;

namespace Shards.Tests.Load;

[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class LeaseWatchTests
{
    private const string Page = """
        # HELP shards_lease_held 1 while this silo holds its majority lease
        # TYPE shards_lease_held gauge
        shards_lease_held{otel_scope_name="Shards"} 0 1765000000000
        # TYPE shards_lease_refused_total counter
        shards_lease_refused_total{otel_scope_name="Shards"} 41 1765000000000
        shards_lease_held_other 7
        """;

    [Fact]
    public void A_metric_is_read_from_a_prometheus_page_with_labels_and_timestamps_and_not_confused_with_a_longer_name()
    {
        Assert.Equal(0, LeaseWatch.Value(Page, "shards_lease_held"));
        Assert.Equal(41, LeaseWatch.Value(Page, "shards_lease_refused_total"));
        Assert.Null(LeaseWatch.Value(Page, "shards_lease"));
        Assert.Equal(3, LeaseWatch.Value("shards_lease_held 1\nshards_lease_held{silo=\"b\"} 2\n", "shards_lease_held"));
    }
}
