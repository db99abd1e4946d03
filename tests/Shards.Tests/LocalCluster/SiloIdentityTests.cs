using Shards.LocalCluster;
using Shards.Postgres;

namespace Shards.Tests.LocalCluster;

/// <summary>
/// A silo process is its membership row's address, port and generation: a restart on the same port, or another host
/// with the same port, is another row. The launcher declares dead exactly the row of the process that exited.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class SiloIdentityTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_row_is_the_process_only_with_the_same_address_port_and_generation()
    {
        var identity = new SiloIdentity("10.77.0.2", 11111, 500);

        Assert.True(identity.Is(Row("10.77.0.2", 11111, 500, Start)));
        Assert.False(identity.Is(Row("10.77.0.2", 11111, 501, Start))); // the restarted process on the same port
        Assert.False(identity.Is(Row("10.77.0.3", 11111, 500, Start))); // another host's silo on the same port
        Assert.False(identity.Is(Row("10.77.0.2", 11112, 500, Start)));
        Assert.Equal("10.77.0.2:11111@500", identity.ToString());
    }

    [Fact]
    public void The_newest_row_since_a_start_ignores_earlier_processes_and_other_hosts_on_the_same_port()
    {
        MembershipRow[] rows =
        [
            Row("10.77.0.2", 11111, 100, Start.AddMinutes(-10)), // an earlier process on this port
            Row("10.77.0.3", 11111, 900, Start.AddSeconds(1)),    // another host, same port, newer generation
            Row("10.77.0.2", 11111, 200, Start.AddSeconds(1)),
        ];

        Assert.Equal(200, SiloIdentity.Newest(rows, "10.77.0.2", 11111, Start)?.Generation);
        Assert.Null(SiloIdentity.Newest(rows, "10.77.0.2", 11111, Start.AddMinutes(1))); // nothing written since
        Assert.Null(SiloIdentity.Newest(rows, "10.77.0.4", 11111, Start.AddMinutes(-20)));
    }

    private static MembershipRow Row(string address, int port, int generation, DateTimeOffset started) =>
        new("silo-1", "host", address, port, generation, port + 1, SiloStatusCode.Active, started, started, null);
}
