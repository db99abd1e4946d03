using System.Net;
using Orleans.Runtime;
using Shards.Client;
using Shards.Contracts.Operations;

namespace Shards.Tests.Client;

/// <summary>The per-silo call counters that <c>shards top</c> reads through the management grain.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class GrainCallCountersTests
{
    private static readonly SiloAddress s_silo = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 3);

    [Fact]
    public async Task The_read_command_answers_this_silos_calls_and_failed_calls_so_far()
    {
        var counters = new GrainCallCounters(new Silo(s_silo));
        counters.Record(failed: false);
        counters.Record(failed: true);
        counters.Record(failed: false);

        var answer = await counters.ExecuteCommand(GrainCallCounters.ReadCommand, null);

        Assert.Equal(new SiloCallCounts(s_silo, 3, 1), answer);
    }

    [Fact]
    public async Task An_unknown_command_is_refused()
    {
        var counters = new GrainCallCounters(new Silo(s_silo));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => counters.ExecuteCommand(99, null));
    }

    private sealed class Silo(SiloAddress address) : ILocalSiloDetails
    {
        public string Name => "silo-1";

        public string ClusterId => "shards";

        public string DnsHostName => "localhost";

        public SiloAddress SiloAddress => address;

        public SiloAddress GatewayAddress => address;
    }
}
