using System.Globalization;
using System.Net;
using Shards.LocalCluster;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Security;

/// <summary>
/// Nothing listens beyond the configured addresses: every listening TCP socket of a real silo process (silo port,
/// gateway, HTTP) is on 127.0.0.1, read from the kernel's socket table (/proc/net/tcp and tcp6) by the socket
/// inodes the process holds.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
[Collection(Shards.Tests.Infrastructure.HeavyProcessesCollection.Name)]
public sealed class ListeningAddressTests
{
    [Fact(Timeout = 180_000)]
    public async Task Every_listening_socket_of_a_silo_process_is_on_loopback()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var launcher = new ClusterLauncher(new LauncherOptions
        {
            SiloCount = 1,
            ConnectionString = await TestPostgres.CreateDatabaseAsync("listen"),
            ClusterId = $"listen-{Guid.NewGuid():N}"[..14],
            RestartCrashedSilos = false,
            ApiKey = "listen-test-key",
            LogDirectory = Path.Combine(Path.GetTempPath(), $"shards-listen-logs-{Guid.NewGuid():N}"),
        });
        await launcher.StartAsync(timeout.Token);
        var silo = launcher.Silos.Single();

        var listening = ListeningSockets(silo.Pid ?? throw new InvalidOperationException("the silo has no process"));

        Assert.Contains(silo.SiloPort, listening.Select(l => l.Port));
        Assert.Contains(silo.GatewayPort, listening.Select(l => l.Port));
        Assert.Contains(silo.HttpPort, listening.Select(l => l.Port));
        Assert.All(listening, socket => Assert.True(IPAddress.IsLoopback(socket.Address), $"{socket.Address}:{socket.Port} listens beyond loopback"));
        Assert.All(listening, socket => Assert.Equal(IPAddress.Loopback, socket.Address.IsIPv4MappedToIPv6 ? socket.Address.MapToIPv4() : socket.Address));
    }

    /// <summary>The (address, port) of every socket in LISTEN state that process <paramref name="pid"/> holds.</summary>
    private static List<(IPAddress Address, int Port)> ListeningSockets(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            var target = new FileInfo(fd).LinkTarget;
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
            {
                inodes.Add(target["socket:[".Length..^1]);
            }
        }

        var sockets = new List<(IPAddress, int)>();
        foreach (var table in new[] { $"/proc/{pid}/net/tcp", $"/proc/{pid}/net/tcp6" })
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                const string listen = "0A";
                if (fields.Length > 9 && fields[3] == listen && inodes.Contains(fields[9]))
                {
                    sockets.Add(ParseEndpoint(fields[1]));
                }
            }
        }

        return sockets;
    }

    /// <summary>/proc/net/tcp's "0100007F:1F90": the address as little-endian 32-bit words in hex, then the port.</summary>
    private static (IPAddress, int) ParseEndpoint(string text)
    {
        var (hex, port) = (text[..text.IndexOf(':')], int.Parse(text[(text.IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        var bytes = new byte[hex.Length / 2];
        for (var word = 0; word < hex.Length / 8; word++)
        {
            var value = uint.Parse(hex.AsSpan(word * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            BitConverter.GetBytes(value).CopyTo(bytes, word * 4); // the kernel prints each word in host (little-endian) order
        }

        return (new IPAddress(bytes), port);
    }
}
