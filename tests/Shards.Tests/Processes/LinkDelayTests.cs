using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Shards.LocalCluster;
using Shards.LocalCluster.Hosts;
using Shards.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Shards.Tests.Processes;

/// <summary>
/// The userspace delay line of the <c>latency</c> nemesis (<see cref="LinkDelay"/>) between two simulated hosts of a
/// network of its own: packets to the delayed peer wait, on a connection made before the delay began too; packets to
/// anyone else do not; after it stops nothing of it is left in the namespace and the link is fast again. Never skipped:
/// without root, iproute2 or a TUN device it fails and says why.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class LinkDelayTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_delay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_jitter = TimeSpan.FromMilliseconds(20);

    [Fact(Timeout = 120_000)]
    public async Task Packets_to_a_delayed_peer_wait_the_delay_on_old_and_new_connections_others_do_not_and_nothing_is_left_after()
    {
        if (LinkDelay.WhyUnavailable() is { } why)
        {
            Assert.Fail($"This test delays packets between network namespaces and is never skipped, but it cannot here: {why}");
        }

        var id = $"delay-{Guid.NewGuid():N}"[..14];
        var network = HostNetwork.For(id, Path.Combine(Path.GetTempPath(), $"shards-{id}"));
        network.RemoveWhenProcessExits(Environment.ProcessId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(100));
        var ct = timeout.Token;
        try
        {
            await network.CreateAsync(2, ct);
            var (near, far) = (network.Silo(1), network.Silo(2));
            using var farEcho = Echo.In(far.Namespace, far.Address);
            using var rootEcho = Echo.In(null, network.RootAddress);
            using var before = Connect(near.Namespace, farEcho.EndPoint);
            var fastBefore = await MedianRoundTripAsync(before, ct);

            TimeSpan delayedOld, delayedConnect, toOthers;
            var line = await LinkDelay.StartAsync(near.Namespace, near.Address, [far.Address], s_delay, s_jitter, ct);
            try
            {
                delayedOld = await MedianRoundTripAsync(before, ct);
                var started = Stopwatch.GetTimestamp();
                using (Connect(near.Namespace, farEcho.EndPoint))
                {
                    delayedConnect = Stopwatch.GetElapsedTime(started);
                }

                using var other = Connect(near.Namespace, rootEcho.EndPoint);
                toOthers = await MedianRoundTripAsync(other, ct);
                Assert.True(line.Packets > 0, "The delay line sent nothing on.");
            }
            finally
            {
                await line.DisposeAsync();
            }

            var fastAfter = await MedianRoundTripAsync(before, ct);
            output.WriteLine($"round trip on one connection: {Ms(fastBefore)} before, {Ms(delayedOld)} delayed, {Ms(fastAfter)} after; " +
                $"a new connection under the delay: {Ms(delayedConnect)}; to a host not delayed: {Ms(toOthers)}");

            // Only the near -> far direction is delayed: a round trip waits once, 100 ms ± 20 ms.
            Assert.InRange(delayedOld.TotalMilliseconds, 78, 1_000);
            Assert.InRange(delayedConnect.TotalMilliseconds, 78, 2_000);
            Assert.True(toOthers < TimeSpan.FromMilliseconds(60), $"A host that is not a delayed peer waited {Ms(toOthers)}.");
            Assert.True(fastAfter < TimeSpan.FromMilliseconds(60), $"After the delay line stopped a round trip still took {Ms(fastAfter)}.");
            var rules = await ProcessRunner.RunAsync("ip", ["netns", "exec", near.Namespace, "ip", "rule", "show"], TimeSpan.FromSeconds(10), ct);
            Assert.DoesNotContain($"{LinkDelay.RulePriority}:", rules.StandardOutput, StringComparison.Ordinal);
            var links = await ProcessRunner.RunAsync("ip", ["netns", "exec", near.Namespace, "ip", "-o", "link", "show"], TimeSpan.FromSeconds(10), ct);
            Assert.DoesNotContain(LinkDelay.Device, links.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            await network.RemoveAsync(CancellationToken.None);
        }
    }

    private static string Ms(TimeSpan time) => $"{time.TotalMilliseconds:0.0} ms";

    private static Socket Connect(string ns, IPEndPoint to) => NetworkNamespaces.Run(ns, () =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(to);
        return socket;
    });

    /// <summary>The median of 7 one-byte echoes on <paramref name="socket"/>.</summary>
    private static async Task<TimeSpan> MedianRoundTripAsync(Socket socket, CancellationToken ct)
    {
        var times = new List<TimeSpan>();
        var buffer = new byte[1];
        for (var i = 0; i < 7; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await socket.SendAsync(new byte[] { (byte)i }, ct);
            Assert.Equal(1, await socket.ReceiveAsync(buffer, ct));
            Assert.Equal((byte)i, buffer[0]);
            times.Add(Stopwatch.GetElapsedTime(started));
        }

        return times.Order().ElementAt(times.Count / 2);
    }

    /// <summary>A TCP echo server on <paramref name="address"/> in namespace <paramref name="ns"/> (null: this process's own).</summary>
    private sealed class Echo : IDisposable
    {
        private readonly Socket _listener;
        private readonly CancellationTokenSource _stop = new();

        private Echo(Socket listener)
        {
            _listener = listener;
            EndPoint = (IPEndPoint)listener.LocalEndPoint!;
            _ = AcceptAsync();
        }

        public IPEndPoint EndPoint { get; }

        public static Echo In(string? ns, string address)
        {
            Socket Listen()
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
                socket.Listen(16);
                return socket;
            }

            return new Echo(ns is null ? Listen() : NetworkNamespaces.Run(ns, Listen));
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptAsync(_stop.Token);
                    client.NoDelay = true;
                    _ = EchoAsync(client);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // stopped
            }
        }

        private async Task EchoAsync(Socket client)
        {
            using (client)
            {
                var buffer = new byte[64];
                try
                {
                    int read;
                    while ((read = await client.ReceiveAsync(buffer, _stop.Token)) > 0)
                    {
                        await client.SendAsync(buffer.AsMemory(0, read), _stop.Token);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    // stopped
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Dispose();
            _stop.Dispose();
        }
    }
}
