using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Shards.Client;
using Shards.Server.Options;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Server.Observability;

/// <summary>
/// Takes the samples behind <see cref="SiloMetrics"/>' slow gauges: this silo's activations of Shards' grains (every
/// <see cref="ShardsTelemetryOptions.ActivationSamplePeriod"/>) and rows and bytes per shard database (every
/// <see cref="ShardsTelemetryOptions.ShardSizeSamplePeriod"/>, the same query as <c>shards map</c>).
/// A failed sample keeps the last values and is tried again next period.
/// </summary>
internal sealed class TelemetrySampler(
    IOptions<ShardsTelemetryOptions> options,
    IOptions<ClusterOptions> cluster,
    SiloMetrics metrics,
    IGrainFactory grains,
    ILocalSiloDetails local,
    IClusterMembershipService membership,
    ShardSet shards,
    ShardInspection inspection,
    ILogger<TelemetrySampler> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var loops = new List<Task> { EveryAsync(settings.ActivationSamplePeriod, "activations", SampleActivationsAsync, stoppingToken) };
        if (settings.ShardSizeSamplePeriod > TimeSpan.Zero)
        {
            loops.Add(EveryAsync(settings.ShardSizeSamplePeriod, "shard sizes", SampleShardSizesAsync, stoppingToken));
        }

        return Task.WhenAll(loops);
    }

    private async Task SampleActivationsAsync(CancellationToken cancellationToken)
    {
        if (membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress) != SiloStatus.Active)
        {
            return; // grain calls only once this silo is in the cluster
        }

        var counts = await GrainActivationCounts.ReadAsync(grains, [local.SiloAddress]).WaitAsync(cancellationToken);
        metrics.SetActivations(counts);
    }

    private async Task SampleShardSizesAsync(CancellationToken cancellationToken)
    {
        var sizes = new List<ShardSize>();
        foreach (var shard in shards.Shards)
        {
            var states = await inspection.StatisticsAsync(shard.ConnectionString, cluster.Value.ServiceId, cancellationToken);
            sizes.AddRange(states.Select(s => new ShardSize(shard.Name, s.State, s.Rows, s.Bytes)));
        }

        metrics.SetShardSizes(sizes);
    }

    private async Task EveryAsync(TimeSpan period, string what, Func<CancellationToken, Task> sample, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(period);
        do
        {
            try
            {
                await sample(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever went wrong (PostgreSQL down, the cluster moving, the silo not active yet), a sample must
                // never stop the silo: keep the last values and try again next period.
                TelemetryLog.SampleFailed(logger, what, $"{ex.GetType().Name}: {ex.Message}", period.TotalSeconds);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
