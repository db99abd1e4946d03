using Orleans.Runtime;

namespace Shards.Server.Lease;

/// <summary>How the majority lease proves that this silo can reach a peer (faked in tests).</summary>
public interface ISiloProbe
{
    /// <summary>True when <paramref name="peer"/> was reached within <paramref name="timeout"/>; never throws for an unreachable peer.</summary>
    Task<bool> ProbeAsync(SiloAddress peer, TimeSpan timeout, CancellationToken cancellationToken);
}
