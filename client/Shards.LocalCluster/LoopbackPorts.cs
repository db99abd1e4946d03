using System.Net;
using System.Net.Sockets;

namespace Shards.LocalCluster;

/// <summary>
/// Free ports on 127.0.0.1 for the servers the local tooling starts (silos, the private PostgreSQL, test servers).
/// A port is picked at random <em>below</em> the kernel's ephemeral range (<c>/proc/sys/net/ipv4/ip_local_port_range</c>,
/// 32768-60999 by default), where the kernel never puts the local end of an outgoing connection: a port the kernel hands
/// out for "port 0" is an ephemeral one, and on a busy machine an outgoing connection can take it between the pick and
/// the server's bind (a silo then fails to start with "port already in use").
/// </summary>
public static class LoopbackPorts
{
    /// <summary>The lowest port picked: above the usual fixed service ports.</summary>
    public const int Lowest = 10000;

    private const int Attempts = 200;
    private const string EphemeralRangeFile = "/proc/sys/net/ipv4/ip_local_port_range";

    /// <summary>A port nothing listened on a moment ago, outside the ephemeral range when the range leaves room for it.</summary>
    public static int Free()
    {
        var below = EphemeralRangeStart();
        if (below - Lowest >= 1000)
        {
            for (var attempt = 0; attempt < Attempts; attempt++)
            {
                var port = Random.Shared.Next(Lowest, below);
                if (IsFree(port))
                {
                    return port;
                }
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Whether nothing listens on 127.0.0.1:<paramref name="port"/> right now.</summary>
    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The first port of the kernel's ephemeral range (Linux), else IANA's (49152).</summary>
    internal static int EphemeralRangeStart()
    {
        try
        {
            var first = File.ReadAllText(EphemeralRangeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0];
            return int.TryParse(first, out var port) && port is > 0 and <= 65535 ? port : 49152;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return 49152;
        }
    }
}
