using System.Net;
using System.Net.Sockets;
using Shards.LocalCluster;

namespace Shards.Tests.LocalCluster;

/// <summary>Ports for local servers come from below the kernel's ephemeral range, where no outgoing connection can take them.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class LoopbackPortsTests
{
    [Fact]
    public void A_free_port_is_below_the_ephemeral_range_and_can_be_listened_on()
    {
        var ephemeral = LoopbackPorts.EphemeralRangeStart();

        var ports = Enumerable.Range(0, 20).Select(_ => LoopbackPorts.Free()).ToList();

        Assert.All(ports, port => Assert.InRange(port, LoopbackPorts.Lowest, ephemeral - 1));
        using var listener = new TcpListener(IPAddress.Loopback, ports[0]);
        listener.Start();
        Assert.False(LoopbackPorts.IsFree(ports[0]));
    }
}
