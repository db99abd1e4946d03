using System.Net;
using Orleans.Runtime;
using Shards.Cli.Top;
using Shards.Contracts.Operations;
using Shards.Postgres;

namespace Shards.Tests.Client;

/// <summary>What <c>shards top</c> shows from two readings of a cluster: rates per silo, and "-" for what it does not know.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class TopRowsTests
{
    private static readonly MembershipRow s_silo1 = Row("silo-1", 11111, SiloStatusCode.Active);
    private static readonly MembershipRow s_silo2 = Row("silo-2", 11112, SiloStatusCode.Joining);

    [Fact]
    public void Rates_are_the_growth_of_each_silos_counts_over_the_time_between_readings()
    {
        var before = Reading(TimeSpan.FromSeconds(10), (s_silo1, 100, 1), (s_silo2, 0, 0));
        var after = Reading(TimeSpan.FromSeconds(12), (s_silo1, 300, 5), (s_silo2, 10, 0));

        var rows = TopRows.Between(before, after);

        Assert.Equal(("silo-1", 100.0, 2.0, 300L, 5L), (rows[0].Name, rows[0].CallsPerSecond, rows[0].ErrorsPerSecond, rows[0].Calls, rows[0].Errors));
        Assert.Equal(("silo-2", "joining", 5.0, 0.0), (rows[1].Name, rows[1].Status, rows[1].CallsPerSecond, rows[1].ErrorsPerSecond));
        Assert.Equal(["silo-1", "127.0.0.1:11111@1", "active", "7", "100.0", "2.0", "300", "5"], TopRows.Cells(rows[0]));
    }

    [Fact]
    public void A_silo_without_an_earlier_count_or_a_read_that_failed_shows_dashes_not_zeros()
    {
        var before = Reading(TimeSpan.FromSeconds(1), (s_silo1, 100, 1));
        var after = Reading(TimeSpan.FromSeconds(2), (s_silo1, 150, 1), (s_silo2, 10, 0)) with { Activations = null };

        var rows = TopRows.Between(before, after);

        Assert.Equal(50.0, rows[0].CallsPerSecond);
        Assert.Null(rows[1].CallsPerSecond);
        Assert.Equal(["silo-2", "127.0.0.1:11112@1", "joining", "-", "-", "-", "10", "0"], TopRows.Cells(rows[1]));
        Assert.All(TopRows.Between(null, after), row => Assert.Null(row.CallsPerSecond));
    }

    [Fact]
    public void Orleans_silo_address_text_is_the_membership_rows_silo_address()
    {
        Assert.Equal(s_silo1.SiloAddress, Address(s_silo1).ToString());
    }

    private static TopReading Reading(TimeSpan at, params (MembershipRow Row, long Calls, long Errors)[] silos) =>
        new(
            at,
            DateTimeOffset.UnixEpoch + at,
            silos.Select(s => s.Row).ToList(),
            silos.ToDictionary(s => s.Row.SiloAddress, _ => 7L),
            silos.ToDictionary(s => s.Row.SiloAddress, s => new SiloCallCounts(Address(s.Row), s.Calls, s.Errors)));

    private static SiloAddress Address(MembershipRow row) => SiloAddress.New(new IPEndPoint(IPAddress.Parse(row.Address), row.Port), row.Generation);

    private static MembershipRow Row(string name, int port, SiloStatusCode status) =>
        new(name, "host", "127.0.0.1", port, 1, port + 1000, status, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null);
}
