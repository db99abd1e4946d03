using System.Diagnostics;
using System.Diagnostics.Metrics;
using Orleans.Runtime;
using Shards.Api.Telemetry;
using Shards.Client;
using Shards.Contracts;

namespace Shards.Server.Observability;

/// <summary>
/// Shards' instruments inside a silo, on the <see cref="ShardsMeter"/> meter. Counters and histograms are fed as
/// things happen (grain calls, membership changes); gauges read the membership snapshot or the last sample taken by
/// <see cref="TelemetrySampler"/> (activations, shard sizes), never the database at scrape time.
/// </summary>
public sealed class SiloMetrics
{
    public const string GrainCallDuration = "shards.grain.call.duration";
    public const string MembershipChanges = "shards.cluster.membership.changes";
    public const string Silos = "shards.cluster.silos";
    public const string Activations = "shards.grain.activations";
    public const string ShardRows = "shards.shard.rows";
    public const string ShardBytes = "shards.shard.bytes";

    private readonly Histogram<double> _grainCalls;
    private readonly Counter<long> _membershipChanges;
    private volatile IReadOnlyList<GrainActivationCount> _activations = [];
    private volatile IReadOnlyList<ShardSize> _shardSizes = [];

    public SiloMetrics(IMeterFactory meters, IClusterMembershipService membership)
    {
        var meter = meters.Create(ShardsMeter.Name);
        _grainCalls = meter.CreateHistogram<double>(
            GrainCallDuration, unit: "s", description: "Duration of calls to Shards' grains served by this silo, by interface, method and outcome");
        _membershipChanges = meter.CreateCounter<long>(
            MembershipChanges, unit: "{change}", description: "Silo status changes this silo saw in the membership table (a silo joined, became active, stopped or was declared dead)");
        meter.CreateObservableGauge(
            Silos,
            () => membership.CurrentSnapshot.Members.Values
                .GroupBy(m => m.Status)
                .Select(g => new Measurement<int>(g.Count(), new KeyValuePair<string, object?>("status", g.Key.ToString()))),
            unit: "{silo}",
            description: "Silos in the membership table by status, as this silo's membership snapshot has them (what `shards members` reads)");
        meter.CreateObservableGauge(
            Activations,
            () => _activations.Select(a => new Measurement<long>(a.Count, new KeyValuePair<string, object?>("grain.type", a.Grain))),
            unit: "{activation}",
            description: "Activations of Shards' grains on this silo, by grain type (sampled; what `shards distribution` reads)");
        meter.CreateObservableGauge(
            ShardRows,
            () => _shardSizes.Select(s => new Measurement<long>(s.Rows, new("shard", s.Shard), new("state", s.State))),
            unit: "{row}",
            description: "Rows of grain state per shard database and state type (sampled)");
        meter.CreateObservableGauge(
            ShardBytes,
            () => _shardSizes.Select(s => new Measurement<long>(s.Bytes, new("shard", s.Shard), new("state", s.State))),
            unit: "By",
            description: "Bytes of grain state payload per shard database and state type (sampled)");
    }

    public bool GrainCallsEnabled => _grainCalls.Enabled;

    public void RecordGrainCall(string grainInterface, string method, bool failed, TimeSpan elapsed) =>
        _grainCalls.Record(elapsed.TotalSeconds, new TagList
        {
            { "grain.interface", grainInterface },
            { "grain.method", method },
            { "outcome", failed ? "error" : "ok" },
        });

    public void RecordMembershipChange(SiloStatus status) =>
        _membershipChanges.Add(1, new KeyValuePair<string, object?>("status", status.ToString()));

    public void SetActivations(IReadOnlyList<GrainActivationCount> activations) => _activations = activations;

    public void SetShardSizes(IReadOnlyList<ShardSize> sizes) => _shardSizes = sizes;
}

/// <summary>Rows and bytes of one state type in one shard database.</summary>
public sealed record ShardSize(string Shard, string State, long Rows, long Bytes);
