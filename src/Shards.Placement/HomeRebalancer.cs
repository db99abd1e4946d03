using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Shards.Placement;

/// <summary>
/// Keeps consistent-hash placed grains on their home silo after the silos change. Each silo polls its membership
/// view every <see cref="PlacementOptions.SettleDelay"/>; once the set of active silos has changed and then stayed
/// the same for a whole period, it asks every local activation whose home is now another silo to migrate
/// (<see cref="IGrainContext.Migrate"/>), and asks those still here again a few times (<see cref="PlacementOptions.Rechecks"/>).
/// Orleans migrates an activation when it is idle: it runs placement again (the director picks the home), carries
/// the in-memory state over and forwards calls that arrive meanwhile. A silo that joins thus receives its ~1/N of the
/// existing keys, not only new ones; a silo that leaves moves nothing (its keys reactivate at their next home on
/// their next call).
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

    /// <summary>True while the rebalancing loop runs (from the silo's Active stage until it stops, unless turned off).</summary>
    internal bool IsRunning => !_loop.IsCompleted;

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
        SiloRing? seen = null, current = null;
        var rechecksLeft = 0;
        var lastPass = DateTime.MinValue;
        try
        {
            while (true)
            {
                await Task.Delay(options.Value.SettleDelay, cancellationToken);
                var silos = ActiveSilos();
                if (silos.Count == 0 || !silos.Contains(localSilo.SiloAddress))
                {
                    seen = null; // starting or leaving: nothing to hand over
                    continue;
                }

                var stable = seen?.IsOver(silos) == true;
                seen = stable ? seen : new SiloRing(silos);
                if (stable && current?.IsOver(silos) != true)
                {
                    // The silos changed and stayed so for a whole SettleDelay: hand over what is no longer ours.
                    current = seen!;
                    rechecksLeft = options.Value.Rechecks;
                    lastPass = DateTime.UtcNow;
                    await MigrateAwayAsync(current, first: true, cancellationToken);
                }
                else if (stable && rechecksLeft > 0 && DateTime.UtcNow - lastPass >= options.Value.RecheckPeriod)
                {
                    // Orleans refuses a migration while the new silo is not yet compatible for the grain type (its
                    // manifest not yet known here) or when the activation is busy deactivating: try those again.
                    rechecksLeft--;
                    lastPass = DateTime.UtcNow;
                    await MigrateAwayAsync(current!, first: false, cancellationToken);
                }
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
    internal async Task<int> MigrateAwayAsync(SiloRing ring, bool first, CancellationToken cancellationToken)
    {
        var local = localSilo.SiloAddress;
        var leaving = activations.Snapshot().Where(a => !ring.HomeOf(a.GrainId).Equals(local)).ToList();
        if (leaving.Count > 0 && first)
        {
            LogRebalancing(logger, ring.Members.Count, leaving.Count, activations.Count);
        }
        else if (leaving.Count > 0)
        {
            LogRecheck(logger, leaving.Count);
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

    [LoggerMessage(EventId = 1701, Level = LogLevel.Information,
        Message = "Silos changed ({Silos} active): migrating {Leaving} of {Tracked} consistent-hash placed activations to their new home")]
    private static partial void LogRebalancing(ILogger logger, int silos, int leaving, int tracked);

    [LoggerMessage(EventId = 1703, Level = LogLevel.Debug, Message = "Placement recheck: asking {Leaving} activations again to migrate to their home")]
    private static partial void LogRecheck(ILogger logger, int leaving);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Error, Message = "The placement rebalancer stopped; activations stay where they are until deactivated")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
