namespace Shards.LocalCluster.Hosts;

/// <summary>
/// Network faults between simulated hosts (<see cref="HostNetwork"/>): nftables rules in one table of a host's own
/// namespace (<see cref="Table"/>), so a fault is undone by deleting that table, and goes with the namespace at the latest.
/// Nothing is added to the root namespace. Needs root and the <c>nft</c> command (Debian package nftables).
/// </summary>
public static class NetworkFaults
{
    /// <summary>The table every fault's rules are in, in the namespace of the host they act on.</summary>
    public const string Table = "shards_nemesis";

    private static readonly string[] s_nftPaths = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"];
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Why faults cannot be made from this process (no root, no nft), or null when they can.</summary>
    public static string? WhyUnavailable()
    {
        if (HostNetwork.WhyUnavailable() is { } network)
        {
            return network;
        }

        return s_nftPaths.Any(File.Exists)
            ? null
            : "the 'nft' command is missing: apt-get install nftables.";
    }

    /// <summary>Packets between <paramref name="host"/> and <paramref name="peers"/> are dropped, both ways (seen from <paramref name="host"/>).</summary>
    public static Task CutAsync(string host, IReadOnlyCollection<string> peers, CancellationToken cancellationToken = default) =>
        ApplyAsync(host, $"ip saddr {Set(peers)} drop", $"ip daddr {Set(peers)} drop", cancellationToken);

    /// <summary>Every packet into or out of <paramref name="host"/>'s namespace (its <c>eth0</c>) is dropped: it reaches no one, not even PostgreSQL.</summary>
    public static Task IsolateAsync(string host, CancellationToken cancellationToken = default) =>
        ApplyAsync(host, "iifname \"eth0\" drop", "oifname \"eth0\" drop", cancellationToken);

    /// <summary>Packets from <paramref name="host"/> to <paramref name="peers"/> are dropped; the other way they pass.</summary>
    public static Task DropOutgoingAsync(string host, IReadOnlyCollection<string> peers, CancellationToken cancellationToken = default) =>
        ApplyAsync(host, input: null, $"ip daddr {Set(peers)} drop", cancellationToken);

    /// <summary>Each packet from <paramref name="host"/> to <paramref name="peers"/> is dropped with probability <paramref name="percent"/> %.</summary>
    public static Task LoseOutgoingAsync(string host, IReadOnlyCollection<string> peers, int percent, CancellationToken cancellationToken = default) =>
        percent is >= 1 and <= 100
            ? ApplyAsync(host, input: null, $"ip daddr {Set(peers)} numgen random mod 100 < {percent} drop", cancellationToken)
            : throw new ArgumentOutOfRangeException(nameof(percent), percent, "A loss is 1 to 100 %.");

    /// <summary>
    /// Removes every fault of <paramref name="host"/> (its <see cref="Table"/>, and the rule a <see cref="LinkDelay"/> of a
    /// killed process left). True when there was one.
    /// </summary>
    public static async Task<bool> HealAsync(string host, CancellationToken cancellationToken = default)
    {
        var result = await ProcessRunner.RunAsync("ip", ["netns", "exec", host, "nft", "delete", "table", "inet", Table], s_commandTimeout, cancellationToken);
        var delayed = await LinkDelay.RemoveLeftoversAsync(host, cancellationToken);
        return result.Succeeded || delayed;
    }

    /// <summary>Whether <paramref name="host"/>'s namespace holds a fault now.</summary>
    public static async Task<bool> HasFaultAsync(string host, CancellationToken cancellationToken = default)
    {
        var result = await ProcessRunner.RunAsync("ip", ["netns", "exec", host, "nft", "list", "table", "inet", Table], s_commandTimeout, cancellationToken);
        return result.Succeeded;
    }

    /// <summary>Replaces <paramref name="host"/>'s fault table with one whose input and output chains hold the given rule (null: none).</summary>
    private static async Task ApplyAsync(string host, string? input, string? output, CancellationToken cancellationToken)
    {
        // One atomic nft transaction: the old table (if any) goes and the new one comes at once.
        var script =
            $"table inet {Table} {{}}\n" +
            $"delete table inet {Table}\n" +
            $"table inet {Table} {{\n" +
            "  chain input { type filter hook input priority -10; policy accept;\n" + (input is null ? string.Empty : $"    {input}\n") + "  }\n" +
            "  chain output { type filter hook output priority -10; policy accept;\n" + (output is null ? string.Empty : $"    {output}\n") + "  }\n" +
            "}\n";
        var file = Path.Combine(Path.GetTempPath(), $"shards-nemesis-{Guid.NewGuid():N}.nft");
        try
        {
            await File.WriteAllTextAsync(file, script, cancellationToken);
            var result = await ProcessRunner.RunAsync("ip", ["netns", "exec", host, "nft", "-f", file], s_commandTimeout, cancellationToken);
            if (!result.Succeeded)
            {
                throw new HostNetworkException($"nft in namespace {host} failed: {result.Diagnostics}");
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string Set(IReadOnlyCollection<string> addresses) =>
        addresses.Count > 0
            ? "{ " + string.Join(", ", addresses) + " }"
            : throw new ArgumentException("A fault needs at least one peer address.", nameof(addresses));
}
