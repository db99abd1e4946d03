using Shards.Contracts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Contracts.Operations;

namespace Shards.Server.Lease;

/// <summary>
/// Refuses every call to a Shards grain with <see cref="ShardsErrorCode.SiloCutOff"/> (transient: the caller retries,
/// possibly through another gateway) while this silo does not hold its <see cref="MajorityLease"/>, checked as the call
/// arrives and before the grain runs: a refused call changed nothing. Orleans' own calls (system targets, membership,
/// the management grain, stream and reminder deliveries), read-lease revocations and the operator calls (<see cref="IClusterAdminGrain"/>, in
/// <c>Shards.Contracts.Operations</c>: declaring a dead silo dead is what gives a 2-silo survivor its lease back) pass.
/// </summary>
internal sealed class MajorityLeaseFilter(MajorityLease lease, MajorityLeaseMetrics metrics) : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (IsGuarded(context.InterfaceMethod?.DeclaringType) && !lease.IsHeld)
        {
            metrics.RecordRefused();
            throw Refusal(lease.Status());
        }

        return context.Invoke();
    }

    /// <summary>The error a refused caller gets, with the numbers that made the silo refuse.</summary>
    public ShardsException Refusal(LeaseStatus status) => new(
        ShardsErrorCode.SiloCutOff,
        $"Silo {lease.Self} cannot reach a majority of the cluster (reached {status.Reached} of {status.Active} in the last " +
        $"{lease.Duration.TotalSeconds:0.###} s); it refuses calls so that it cannot answer from a stale activation. Nothing was " +
        "applied: retry, through another silo if this one stays cut off.");

    /// <remarks>
    /// A product's revocation of this silo's read-lease copy (<see cref="IProductReadLeaseHolder"/>) passes too: it only
    /// drops a copy, and refusing it would make the product's change wait out the lease.
    /// </remarks>
    private static bool IsGuarded(Type? grainInterface) =>
        grainInterface is not null && grainInterface.Assembly == typeof(StorageNames).Assembly && grainInterface.Namespace != typeof(IClusterAdminGrain).Namespace
        && grainInterface != typeof(IProductReadLeaseHolder);
}
