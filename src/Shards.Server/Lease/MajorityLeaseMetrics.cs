using System.Diagnostics.Metrics;
using Shards.Contracts;

namespace Shards.Server.Lease;

/// <summary>The majority lease's instruments, on the <see cref="ShardsMeter"/> meter.</summary>
public sealed class MajorityLeaseMetrics
{
    public const string Held = "shards.lease.held";
    public const string Refused = "shards.lease.refused";

    private readonly Counter<long> _refused;

    public MajorityLeaseMetrics(IMeterFactory meters, MajorityLease lease)
    {
        var meter = meters.Create(ShardsMeter.Name);
        meter.CreateObservableGauge(
            Held,
            () => lease.IsHeld ? 1 : 0,
            unit: "{lease}",
            description: "1 while this silo holds its majority lease (it reached a majority of the active silos within the lease) and serves grain calls, 0 while it refuses them");
        _refused = meter.CreateCounter<long>(
            Refused, unit: "{call}", description: "Grain calls this silo refused because it did not hold its majority lease (SiloCutOff)");
    }

    public void RecordRefused() => _refused.Add(1);
}
