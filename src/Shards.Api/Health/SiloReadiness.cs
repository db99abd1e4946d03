using Orleans.Runtime;

namespace Shards.Api.Health;

/// <summary>
/// Whether this silo can serve grain calls: it is Active in the cluster's membership (not still joining, not
/// stopping, not declared dead). Read from Orleans' own membership snapshot, which every silo keeps current.
/// </summary>
public sealed class SiloReadiness(IClusterMembershipService membership, ILocalSiloDetails local)
{
    /// <summary>This silo's name in the membership table (e.g. <c>silo-2</c>).</summary>
    public string SiloName => local.Name;

    /// <summary>This silo's status as the cluster sees it.</summary>
    public SiloStatus Status => membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress);

    public bool IsActive => Status == SiloStatus.Active;

    /// <summary>Why this silo does not serve grain calls now, for a 503's detail.</summary>
    public string DescribeNotReady() => Status switch
    {
        SiloStatus.None or SiloStatus.Created or SiloStatus.Joining =>
            $"Silo {SiloName} is still joining the cluster; retry shortly (or through another silo).",
        SiloStatus.ShuttingDown or SiloStatus.Stopping =>
            $"Silo {SiloName} is stopping; retry through another silo.",
        SiloStatus.Dead => $"Silo {SiloName} was declared dead by the cluster; retry through another silo.",
        var other => $"Silo {SiloName} is {other}, not Active in the cluster.",
    };
}
