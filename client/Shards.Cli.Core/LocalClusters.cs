using Shards.LocalCluster;
using Shards.LocalCluster.Postgres;

namespace Shards.Cli.Core;

/// <summary>
/// The clusters that <c>shards cluster up</c> runs from this folder (their <c>.shards/cluster*.json</c>) on the private
/// PostgreSQL: <c>db stop</c> refuses to pull it from under them, and "no PostgreSQL" errors say they are up.
/// </summary>
public static class LocalClusters
{
    /// <summary>Running clusters of this folder whose database is <paramref name="server"/> (or not known yet: still starting).</summary>
    public static IReadOnlyList<ClusterState> On(IPrivatePostgres server, string? directory = null)
    {
        var address = server.LastAddress;
        return ClusterStateFile.FindRunning(directory)
            .Select(r => r.State!)
            .Where(s => s.Database is null || address is null || s.Database == address)
            .ToList();
    }

    /// <summary>"cluster 'shards' (3 silos: silo-1 pid 4250, ...; launcher 'shards cluster up' pid 4242)".</summary>
    public static string Describe(ClusterState cluster)
    {
        var silos = cluster.Silos.Count == 0
            ? "no silo yet"
            : $"{Silos(cluster.Silos.Count)}: " + string.Join(", ", cluster.Silos.Select(s => s.Pid is { } pid ? $"{s.Name} pid {pid}" : $"{s.Name} ({s.Status.ToString().ToLowerInvariant()})"));
        return $"cluster '{cluster.ClusterId}' ({silos}; launcher 'shards cluster up' pid {cluster.LauncherPid})";
    }

    /// <summary>"1 silo", "3 silos".</summary>
    public static string Silos(int count) => count == 1 ? "1 silo" : $"{count} silos";
}
