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

/// <summary><c>shards members</c> finds a row's process (PID, HTTP port) in the launcher's state by the row's identity.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class MembersLocalProcessTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_process_with_a_known_generation_matches_only_its_own_row()
    {
        LocalSiloState[] processes = [Process(generation: 7)];

        Assert.NotNull(Shards.Cli.Commands.MembersCommand.LocalProcessOf(Row("127.0.0.1", 7), processes));
        Assert.Null(Shards.Cli.Commands.MembersCommand.LocalProcessOf(Row("127.0.0.1", 6), processes)); // an earlier process on the port
        Assert.Null(Shards.Cli.Commands.MembersCommand.LocalProcessOf(Row("10.77.0.3", 7), processes)); // another host
        Assert.Null(Shards.Cli.Commands.MembersCommand.LocalProcessOf(Row("127.0.0.1", 7, SiloStatusCode.Dead), processes));
    }

    [Fact]
    public void A_process_whose_join_the_launcher_did_not_see_matches_by_name_address_and_port()
    {
        Assert.NotNull(Shards.Cli.Commands.MembersCommand.LocalProcessOf(Row("127.0.0.1", 9), [Process(generation: null)]));
    }

    private static LocalSiloState Process(int? generation) => new()
    {
        Name = "silo-1", Pid = 4242, SiloPort = 11111, Generation = generation, GatewayPort = 11112, HttpPort = 8081,
        HttpUrl = "http://127.0.0.1:8081", LogFile = "silo-1.log",
    };

    private static MembershipRow Row(string address, int generation, SiloStatusCode status = SiloStatusCode.Active) =>
        new("silo-1", "host", address, 11111, generation, 11112, status, Start, Start, null);
}
