namespace Shards.Hosting.Options;

/// <summary>Identity of the cluster in the membership table (section <c>Shards:Cluster</c>).</summary>
public sealed class ShardsClusterOptions
{
    public const string Section = "Shards:Cluster";

    /// <summary>Silos and clients with the same ClusterId form one cluster; others in the same database are invisible.</summary>
    public string ClusterId { get; set; } = "shards";

    /// <summary>Stable across deployments: grain state and reminders are keyed by it.</summary>
    public string ServiceId { get; set; } = "shards";
}
