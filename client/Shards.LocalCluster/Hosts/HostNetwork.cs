using System.Security.Cryptography;
using System.Text;

namespace Shards.LocalCluster.Hosts;

/// <summary>One simulated host of <c>shards cluster up --hosts N</c>: a network namespace with one address on the cluster's bridge.</summary>
/// <param name="Name">What people call it: <c>postgres</c>, <c>host-1</c> ...</param>
/// <param name="Namespace">The network namespace (<c>ip netns</c>) its processes run in.</param>
/// <param name="Address">Its only address (besides 127.0.0.1 of its own loopback), on the cluster's /24.</param>
/// <param name="Link">The root namespace's end of its veth pair, enslaved to the bridge (the other end is <c>eth0</c> in the namespace).</param>
public sealed record SimulatedHost(string Name, string Namespace, string Address, string Link);

/// <summary>
/// The network of <c>shards cluster up --hosts N</c>: a bridge in the root namespace with the /24's first address (the CLI,
/// the load and the launcher reach every host through it), and per host (PostgreSQL, then one per silo) a network namespace
/// joined to the bridge by a veth pair. Names and the /24 derive from the cluster ID and the state folder, so a later
/// <c>cluster up</c> or <c>cluster down</c> finds (and removes) what a launcher that crashed left behind. Everything runs
/// through <c>ip</c> (iproute2) and needs root. No traffic leaves the bridge: nothing routes from it to other networks.
/// </summary>
public sealed class HostNetwork
{
    /// <summary>The most silo hosts: addresses .11 to .42 of the /24.</summary>
    public const int MaxHosts = 32;

    private const string NamePrefix = "shn";
    private const int FirstSiloOctet = 10;
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(20);

    private HostNetwork(string prefix, int thirdOctet)
    {
        Prefix = prefix;
        Subnet = $"10.213.{thirdOctet}";
    }

    /// <summary>What every name of this network starts with (namespaces and links): <c>shn</c> and 4 hex digits and a dash.</summary>
    public string Prefix { get; }

    /// <summary>The first three octets of the /24: <c>10.213.X</c>.</summary>
    public string Subnet { get; }

    public string Cidr => $"{Subnet}.0/24";

    public string Bridge => Prefix + "br";

    /// <summary>The root namespace's address on the bridge (the CLI, the load and the launcher talk from it).</summary>
    public string RootAddress => $"{Subnet}.1";

    public SimulatedHost Postgres => new("postgres", Prefix + "pg", $"{Subnet}.2", Prefix + "pg");

    /// <summary>The host of silo <paramref name="number"/> (1-based, as in <c>silo-1</c>).</summary>
    public SimulatedHost Silo(int number) =>
        number is >= 1 and <= MaxHosts
            ? new($"host-{number}", $"{Prefix}h{number}", $"{Subnet}.{FirstSiloOctet + number}", $"{Prefix}h{number}")
            : throw new ArgumentOutOfRangeException(nameof(number), number, $"A silo host is numbered 1 to {MaxHosts}.");

    /// <summary>
    /// The network of cluster <paramref name="clusterId"/> run from state folder <paramref name="stateDirectory"/>
    /// (default <c>.shards</c>): two clusters, or two folders, get different names and, most likely, different /24s.
    /// </summary>
    public static HostNetwork For(string clusterId, string? stateDirectory = null)
    {
        var folder = Path.GetFullPath(stateDirectory ?? ".shards");
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(folder + "\0" + clusterId));
        return new HostNetwork($"{NamePrefix}{Convert.ToHexStringLower(hash.AsSpan(0, 2))}-", hash[2]);
    }

    /// <summary>Why this process cannot build the network (not root, not Linux, no <c>ip</c>), or null when it can.</summary>
    public static string? WhyUnavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "simulated hosts are Linux network namespaces; this is not Linux.";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "creating network namespaces, a bridge and veth links needs root (CAP_NET_ADMIN); run it as root (e.g. with sudo).";
        }

        return HasIpCommand ? null : "the 'ip' command (iproute2) is missing: apt-get install iproute2.";
    }

    private static readonly string[] s_ipPaths = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"];

    /// <summary>Whether iproute2's <c>ip</c> is installed (listing namespaces needs no root).</summary>
    public static bool HasIpCommand => OperatingSystem.IsLinux() && s_ipPaths.Any(File.Exists);

    /// <summary>Namespaces of this network that exist now (a running cluster's, or a crashed launcher's leftovers).</summary>
    public async Task<IReadOnlyList<string>> NamespacesAsync(CancellationToken cancellationToken = default)
    {
        var list = await ProcessRunner.RunAsync("ip", ["netns", "list"], s_commandTimeout, cancellationToken);
        return list.StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ')[0])
            .Where(name => name.StartsWith(Prefix, StringComparison.Ordinal))
            .ToList();
    }

    /// <summary>Links of this network in the root namespace (the bridge, the hosts' veth ends).</summary>
    public async Task<IReadOnlyList<string>> LinksAsync(CancellationToken cancellationToken = default)
    {
        var list = await ProcessRunner.RunAsync("ip", ["-o", "link", "show"], s_commandTimeout, cancellationToken);
        return list.StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 3) is { Length: 3 } parts ? parts[1].Trim().Split('@')[0] : string.Empty)
            .Where(name => name.StartsWith(Prefix, StringComparison.Ordinal))
            .ToList();
    }

    /// <summary>
    /// Builds the bridge and the hosts: PostgreSQL's and <paramref name="silos"/> silo hosts. Refuses when another interface
    /// has an address in the /24 already. On failure, whatever was made is removed before the exception leaves.
    /// </summary>
    public async Task CreateAsync(int silos, CancellationToken cancellationToken = default)
    {
        if (silos is < 1 or > MaxHosts)
        {
            throw new ArgumentOutOfRangeException(nameof(silos), silos, $"--hosts must be between 1 and {MaxHosts}.");
        }

        var addresses = await ProcessRunner.RunAsync("ip", ["-4", "-o", "addr", "show"], s_commandTimeout, cancellationToken);
        var clash = addresses.StandardOutput.Split('\n')
            .FirstOrDefault(line => line.Contains($" {Subnet}.", StringComparison.Ordinal) && !line.Contains($" {Bridge} ", StringComparison.Ordinal));
        if (clash is not null)
        {
            throw new HostNetworkException($"The /24 {Cidr} of this cluster's hosts is in use on this machine already: {clash.Trim()}");
        }

        try
        {
            await IpAsync(cancellationToken, "link", "add", Bridge, "type", "bridge");
            await IpAsync(cancellationToken, "addr", "add", $"{RootAddress}/24", "dev", Bridge);
            await IpAsync(cancellationToken, "link", "set", Bridge, "up");
            foreach (var host in new[] { Postgres }.Concat(Enumerable.Range(1, silos).Select(Silo)))
            {
                await AddHostAsync(host, cancellationToken);
            }
        }
        catch
        {
            await RemoveAsync(CancellationToken.None);
            throw;
        }
    }

    private async Task AddHostAsync(SimulatedHost host, CancellationToken cancellationToken)
    {
        await IpAsync(cancellationToken, "netns", "add", host.Namespace);
        await IpAsync(cancellationToken, "link", "add", host.Link, "type", "veth", "peer", "name", "eth0", "netns", host.Namespace);
        await IpAsync(cancellationToken, "link", "set", host.Link, "master", Bridge);
        await IpAsync(cancellationToken, "link", "set", host.Link, "up");
        await IpAsync(cancellationToken, "-n", host.Namespace, "addr", "add", $"{host.Address}/24", "dev", "eth0");
        await IpAsync(cancellationToken, "-n", host.Namespace, "link", "set", "eth0", "up");
        // A process reaches its own address through loopback: without it a silo cannot call itself.
        await IpAsync(cancellationToken, "-n", host.Namespace, "link", "set", "lo", "up");
    }

    /// <summary>
    /// Removes every namespace and link of this network, also those a crashed launcher left: processes still in a
    /// namespace (they can only be this cluster's) are SIGKILLed first, so that the namespace really goes. Idempotent;
    /// returns what it removed.
    /// </summary>
    public async Task<IReadOnlyList<string>> RemoveAsync(CancellationToken cancellationToken = default)
    {
        var removed = new List<string>();
        foreach (var name in await NamespacesAsync(cancellationToken))
        {
            var pids = await ProcessRunner.RunAsync("ip", ["netns", "pids", name], s_commandTimeout, cancellationToken);
            foreach (var pid in pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (int.TryParse(pid, out var id) && id != Environment.ProcessId)
                {
                    PosixSignals.Send(id, PosixSignals.SigKill);
                }
            }

            await ProcessRunner.RunAsync("ip", ["netns", "delete", name], s_commandTimeout, cancellationToken);
            removed.Add($"namespace {name}");
        }

        // A namespace goes once its last process is gone, and its veth pair with it; whatever is still there goes here.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        IReadOnlyList<string> links;
        while ((links = await LinksAsync(cancellationToken)).Count > 0)
        {
            foreach (var link in links)
            {
                if ((await ProcessRunner.RunAsync("ip", ["link", "delete", link], s_commandTimeout, cancellationToken)).Succeeded)
                {
                    removed.Add($"link {link}");
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new HostNetworkException($"Could not remove the links {string.Join(", ", links)} of the cluster's hosts.");
            }

            await Task.Delay(100, cancellationToken);
        }

        return removed;
    }

    /// <summary>
    /// Removes this network once process <paramref name="ownerPid"/> is gone, however it ends (a test host that is killed
    /// runs no finally block): a detached shell watches the owner, then does what <see cref="RemoveAsync"/> does.
    /// </summary>
    public void RemoveWhenProcessExits(int ownerPid)
    {
        var script =
            $"while kill -0 {ownerPid} 2>/dev/null; do sleep 1; done; " +
            $"for ns in $(ip netns list | cut -d' ' -f1 | grep '^{Prefix}'); do " +
            "for pid in $(ip netns pids \"$ns\"); do kill -9 \"$pid\"; done; ip netns delete \"$ns\"; done; sleep 1; " +
            $"for link in $(ip -o link show | cut -d: -f2 | cut -d@ -f1 | tr -d ' ' | grep '^{Prefix}'); do ip link delete \"$link\"; done";
        DetachedShell.Start(script, "the watchdog that removes the simulated hosts");
    }

    private static async Task IpAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync("ip", arguments, s_commandTimeout, cancellationToken);
        if (!result.Succeeded)
        {
            throw new HostNetworkException($"'ip {string.Join(' ', arguments)}' failed: {result.Diagnostics}");
        }
    }
}

/// <summary>The simulated hosts' network could not be built or removed.</summary>
public sealed class HostNetworkException(string message) : Exception(message);
