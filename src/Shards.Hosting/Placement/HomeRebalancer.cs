using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Shards.Hosting.Placement;

/// <summary>
/// Keeps consistent-hash placed grains on their home silo after the silos change. When the set of active silos has
/// been stable for <see cref="PlacementOptions.SettleDelay"/>, each silo asks every local activation whose home is now
/// another silo to migrate (<see cref="IGrainContext.Migrate"/>): Orleans does it when the activation is idle, runs
/// placement again (the director picks the home), carries the in-memory state over and forwards calls that arrive
/// meanwhile. A silo that joins thus receives its ~1/N of the existing keys, not only new ones; a silo that leaves
/// moves nothing (its keys reactivate at their next home on their next call).
/// </summary>
internal sealed partial class HomeRebalancer(
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    HomeActivations activations,
    IOptions<PlacementOptions> options,
    ILogger<HomeRebalancer> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(HomeRebalancer), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    public void Dispose() => _stopping.Dispose();

    private Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Rebalance)
        {
            _loop = RunAsync(_stopping.Token);
        }

        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            await _loop.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The silo stops regardless; the loop ends at its next await.
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        SiloRing? rebalancedFor = null;
        try
        {
            await foreach (var _ in membership.MembershipUpdates.WithCancellation(cancellationToken))
            {
                // Let a burst of changes (several silos joining) settle, then act on the latest view only.
                await Task.Delay(options.Value.SettleDelay, cancellationToken);
                var silos = ActiveSilos();
                if (silos.Count == 0 || !silos.Contains(localSilo.SiloAddress) || rebalancedFor?.IsOver(silos) == true)
                {
                    continue;
                }

                rebalancedFor = new SiloRing(silos);
                await MigrateAwayAsync(rebalancedFor, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            LogFailed(logger, ex);
        }
    }

    private IReadOnlyCollection<SiloAddress> ActiveSilos() =>
        [.. membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress)];

    /// <summary>Asks every local activation whose home is another silo to migrate, in paced batches.</summary>
    internal async Task<int> MigrateAwayAsync(SiloRing ring, CancellationToken cancellationToken)
    {
        var local = localSilo.SiloAddress;
        var leaving = activations.Snapshot().Where(a => !ring.HomeOf(a.GrainId).Equals(local)).ToList();
        if (leaving.Count > 0)
        {
            LogRebalancing(logger, ring.Members.Count, leaving.Count, activations.Count);
        }

        for (var i = 0; i < leaving.Count; i++)
        {
            leaving[i].Migrate(requestContext: null, cancellationToken: CancellationToken.None);
            if ((i + 1) % options.Value.BatchSize == 0)
            {
                await Task.Delay(options.Value.BatchPause, cancellationToken);
            }
        }

        return leaving.Count;
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Information,
        Message = "Silos changed ({Silos} active): migrating {Leaving} of {Tracked} consistent-hash placed activations to their new home")]
    private static partial void LogRebalancing(ILogger logger, int silos, int leaving, int tracked);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Error, Message = "The placement rebalancer stopped; activations stay where they are until deactivated")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
