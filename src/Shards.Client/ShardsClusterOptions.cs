namespace Shards.Client;

/// <summary>
/// Identity of the cluster (section <c>Shards:Cluster</c>). Orleans keys two things differently: the membership table
/// by <see cref="ClusterId"/> (which silos and clients form one cluster) and grain state, reminders and the shard map
/// by <see cref="ServiceId"/> (whose data it is). <see cref="ServiceId"/> defaults to the cluster ID, so two clusters
/// with different cluster IDs on one database see neither each other's silos nor each other's grains. Give two
/// clusters the same ServiceId only on purpose: they then share grain state (e.g. a blue/green deployment of one
/// service), and must never run at the same time on the same keys. See docs/security.md.
/// </summary>
public sealed class ShardsClusterOptions
{
    public const string Section = "Shards:Cluster";
    public const string DefaultClusterId = "shards";

    private string? _serviceId;

    /// <summary>Silos and clients with the same ClusterId form one cluster; others in the same database are invisible.</summary>
    public string ClusterId { get; set; } = DefaultClusterId;

    /// <summary>Stable across deployments: grain state, reminders and the shard map are keyed by it. Default: the ClusterId.</summary>
    public string ServiceId
    {
        get => string.IsNullOrWhiteSpace(_serviceId) ? ClusterId : _serviceId;
        set => _serviceId = value;
    }
}
