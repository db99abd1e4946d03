using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Shards.LocalCluster.Hosts;

/// <summary>
/// A userspace delay line (what <c>tc qdisc add ... netem delay 100ms 20ms</c> does, for kernels built without
/// <c>sch_netem</c>) on the packets one simulated host (<see cref="HostNetwork"/>) sends to some of the others:
/// <list type="bullet">
/// <item>In the host's namespace, a TUN device <see cref="Device"/>, one route per peer in routing table
/// <see cref="RouteTable"/>, and a rule (<see cref="RulePriority"/>) sending every packet without mark
/// <see cref="BypassMark"/> through that table. Every packet of the host to a peer, of any connection, new or
/// established, goes into the device instead of out of <c>eth0</c>.</item>
/// <item>This process reads each one from the device, holds it for the delay plus a uniform jitter (first in, first
/// out: a packet never overtakes an earlier one, so TCP sees no reordering), then sends it unchanged through a raw
/// socket of that namespace with the bypass mark: it leaves through <c>eth0</c> as if it had never been held.</item>
/// </list>
/// The device belongs to this process: when it stops (<see cref="DisposeAsync"/>, or killed) the device goes and its
/// routes with it, and the host's packets take <c>eth0</c> again. The rule alone may stay after a kill; it points at
/// an empty table and changes nothing, and <see cref="RemoveLeftoversAsync"/> deletes it. Needs root, Linux and
/// <c>ip</c>; IPv4 only (the simulated hosts have no other addresses).
/// </summary>
public sealed partial class LinkDelay : IAsyncDisposable
{
    /// <summary>The TUN device in the host's namespace.</summary>
    public const string Device = "shdelay0";

    /// <summary>The routing table holding one route per delayed peer, through <see cref="Device"/>.</summary>
    public const int RouteTable = 5348;

    /// <summary>The priority of the rule that sends the host's unmarked packets through <see cref="RouteTable"/>.</summary>
    public const int RulePriority = 5348;

    /// <summary>The mark (SO_MARK) of the packets this process sends on after their delay: they skip the rule.</summary>
    public const int BypassMark = 0x5348;

    private const int OpenReadWrite = 2;
    private const int OpenNonBlocking = 0x800;
    private const int OpenCloseOnExec = 0x80000;
    private const nuint TunSetInterface = 0x400454ca; // TUNSETIFF = _IOW('T', 202, int)
    private const short InterfaceTun = 0x0001;
    private const short InterfaceNoPacketInfo = 0x1000;
    private const short PollIn = 0x0001;
    private const int SocketLevel = 1; // SOL_SOCKET
    private const int SocketMark = 36; // SO_MARK
    private const int MaxPacket = 65_536;
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(20);

    private readonly string _namespace;
    private readonly int _tun;
    private readonly Socket _raw;
    private readonly long _delayTicks;
    private readonly long _jitterTicks;
    private readonly Queue<(byte[] Packet, IPAddress Destination, long Release)> _queue = new();
    private readonly Thread _reader;
    private readonly Thread _sender;
    private volatile bool _stopping;
    private long _lastRelease;
    private long _packets;
    private long _bytes;
    private int _deepest;
    private int _disposed;

    private LinkDelay(string ns, int tun, Socket raw, TimeSpan delay, TimeSpan jitter)
    {
        _namespace = ns;
        _tun = tun;
        _raw = raw;
        _delayTicks = (long)(delay.TotalSeconds * Stopwatch.Frequency);
        _jitterTicks = (long)(jitter.TotalSeconds * Stopwatch.Frequency);
        _reader = new Thread(ReadPackets) { IsBackground = true, Name = $"delay-in {ns}", Priority = ThreadPriority.AboveNormal };
        _sender = new Thread(SendPackets) { IsBackground = true, Name = $"delay-out {ns}", Priority = ThreadPriority.AboveNormal };
    }

    /// <summary>Packets held and sent on so far.</summary>
    public long Packets => Interlocked.Read(ref _packets);

    /// <summary>Their bytes (IP headers included).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>The most packets held at once.</summary>
    public int DeepestQueue => Volatile.Read(ref _deepest);

    /// <summary>Why this process cannot delay packets (not Linux, not root, no <c>ip</c>, no TUN), or null when it can.</summary>
    public static string? WhyUnavailable() =>
        HostNetwork.WhyUnavailable() ??
        (File.Exists("/dev/net/tun") ? null : "the kernel offers no TUN device (/dev/net/tun is missing; modprobe tun).");

    /// <summary>
    /// Delays every packet that namespace <paramref name="ns"/> (whose address on the bridge is <paramref name="address"/>)
    /// sends to <paramref name="peers"/> by <paramref name="delay"/> ± <paramref name="jitter"/> (uniform), until disposed.
    /// </summary>
    public static async Task<LinkDelay> StartAsync(
        string ns, string address, IReadOnlyCollection<string> peers, TimeSpan delay, TimeSpan jitter, CancellationToken cancellationToken = default)
    {
        if (peers.Count == 0)
        {
            throw new ArgumentException("A delay needs at least one peer address.", nameof(peers));
        }

        if (delay <= TimeSpan.Zero || jitter < TimeSpan.Zero || jitter > delay)
        {
            throw new ArgumentOutOfRangeException(nameof(jitter), $"A delay is positive and its jitter between 0 and the delay (got {delay} ± {jitter}).");
        }

        if (WhyUnavailable() is { } why)
        {
            throw new HostNetworkException($"Cannot delay packets here: {why}");
        }

        await RemoveLeftoversAsync(ns, cancellationToken);
        var (tun, raw) = OpenInNamespace(ns);
        var line = new LinkDelay(ns, tun, raw, delay, jitter);
        try
        {
            line._reader.Start();
            line._sender.Start();
            var script = $"link set {Device} up\n" +
                string.Concat(peers.Select(peer => $"route replace {IPAddress.Parse(peer)}/32 dev {Device} src {IPAddress.Parse(address)} table {RouteTable}\n")) +
                $"rule add priority {RulePriority} not fwmark {BypassMark} lookup {RouteTable}\n";
            await RunIpBatchAsync(ns, script, cancellationToken);
            return line;
        }
        catch
        {
            await line.DisposeAsync();
            throw;
        }
    }

    /// <summary>Deletes what a delay line of a killed process left in <paramref name="ns"/> (its rule). True when there was one.</summary>
    public static async Task<bool> RemoveLeftoversAsync(string ns, CancellationToken cancellationToken = default)
    {
        var removed = false;
        while ((await ProcessRunner.RunAsync("ip", ["netns", "exec", ns, "ip", "rule", "del", "priority", $"{RulePriority}"], s_commandTimeout, cancellationToken)).Succeeded)
        {
            removed = true;
        }

        return removed;
    }

    /// <summary>Takes the rule away (the host's packets take <c>eth0</c> again), sends on what is held at once, and closes the device.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await RemoveLeftoversAsync(_namespace);
        _stopping = true;
        lock (_queue)
        {
            Monitor.PulseAll(_queue);
        }

        _reader.Join(TimeSpan.FromSeconds(2)); // both start right after construction, before anything can fail
        _sender.Join(TimeSpan.FromSeconds(2));

        _raw.Dispose();
        _ = Close(_tun);
    }

    /// <summary>The TUN device and the raw socket, both made in <paramref name="ns"/> (a descriptor keeps its namespace).</summary>
    private static (int Tun, Socket Raw) OpenInNamespace(string ns) => NetworkNamespaces.Run(ns, () =>
    {
        var tun = Open("/dev/net/tun", OpenReadWrite | OpenNonBlocking | OpenCloseOnExec);
        if (tun < 0)
        {
            throw new HostNetworkException($"Cannot open /dev/net/tun (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            var request = new byte[40]; // struct ifreq: the name, then the flags
            System.Text.Encoding.ASCII.GetBytes(Device, request);
            BitConverter.TryWriteBytes(request.AsSpan(16), (short)(InterfaceTun | InterfaceNoPacketInfo));
            if (IoControl(tun, TunSetInterface, request) != 0)
            {
                throw new HostNetworkException($"Cannot create the TUN device {Device} in {ns} (errno {Marshal.GetLastPInvokeError()}).");
            }

            var raw = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Raw);
            raw.SetRawSocketOption(SocketLevel, SocketMark, BitConverter.GetBytes(BypassMark));
            return (tun, raw);
        }
        catch
        {
            _ = Close(tun);
            throw;
        }
    });

    private void ReadPackets()
    {
        var buffer = new byte[MaxPacket];
        var poll = new PollDescriptor { Descriptor = _tun, Events = PollIn };
        while (!_stopping)
        {
            poll.Returned = 0;
            if (Poll(ref poll, 1, 200) <= 0)
            {
                continue;
            }

            int length;
            unsafe
            {
                fixed (byte* start = buffer)
                {
                    length = (int)Read(_tun, start, buffer.Length);
                }
            }

            if (length < 20 || (buffer[0] >> 4) != 4)
            {
                continue; // nothing, or not IPv4 (the device's own IPv6 chatter): dropped
            }

            var packet = buffer.AsSpan(0, length).ToArray();
            var destination = new IPAddress(packet.AsSpan(16, 4));
            var jitter = _jitterTicks == 0 ? 0 : Random.Shared.NextInt64(-_jitterTicks, _jitterTicks + 1);
            lock (_queue)
            {
                var release = Math.Max(Stopwatch.GetTimestamp() + _delayTicks + jitter, _lastRelease);
                _lastRelease = release;
                _queue.Enqueue((packet, destination, release));
                if (_queue.Count > _deepest)
                {
                    Volatile.Write(ref _deepest, _queue.Count);
                }

                if (_queue.Count == 1)
                {
                    Monitor.Pulse(_queue);
                }
            }
        }
    }

    private void SendPackets()
    {
        while (true)
        {
            (byte[] Packet, IPAddress Destination, long Release) next;
            lock (_queue)
            {
                while (true)
                {
                    if (_queue.Count == 0)
                    {
                        if (_stopping)
                        {
                            return;
                        }

                        Monitor.Wait(_queue, 200);
                        continue;
                    }

                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _queue.Peek().Release);
                    if (_stopping || wait <= TimeSpan.Zero)
                    {
                        next = _queue.Dequeue();
                        break;
                    }

                    Monitor.Wait(_queue, wait);
                }
            }

            try
            {
                _raw.SendTo(next.Packet, new IPEndPoint(next.Destination, 0));
                Interlocked.Increment(ref _packets);
                Interlocked.Add(ref _bytes, next.Packet.Length);
            }
            catch (SocketException)
            {
                // A packet the kernel would not send (e.g. the peer's route went away): lost, as on a real link.
            }
        }
    }

    private static async Task RunIpBatchAsync(string ns, string script, CancellationToken cancellationToken)
    {
        var file = Path.Combine(Path.GetTempPath(), $"shards-delay-{Guid.NewGuid():N}.ip");
        try
        {
            await File.WriteAllTextAsync(file, script, cancellationToken);
            var result = await ProcessRunner.RunAsync("ip", ["netns", "exec", ns, "ip", "-batch", file], s_commandTimeout, cancellationToken);
            if (!result.Succeeded)
            {
                throw new HostNetworkException($"ip in namespace {ns} failed: {result.Diagnostics}");
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        public int Descriptor;
        public short Events;
        public short Returned;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoControl(int descriptor, nuint request, byte[] argument);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollDescriptor descriptors, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint Read(int descriptor, byte* buffer, nint count);
}
