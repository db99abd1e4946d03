using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Shards.Server.Observability;

/// <summary>
/// Follows this silo's view of the membership table: every status change of a silo (joined, active, stopping, declared
/// dead) after this silo started watching is counted (<c>shards.cluster.membership.changes</c>) and logged (event 1602).
/// A silo first seen already dead is history from before this silo started, not a change, and is skipped.
/// </summary>
internal sealed class MembershipEventsWatcher(IClusterMembershipService membership, SiloMetrics metrics, ILogger<MembershipEventsWatcher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ClusterMembershipSnapshot? previous = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
                {
                    if (previous is not null && snapshot.Version > previous.Version)
                    {
                        foreach (var change in snapshot.CreateUpdate(previous).Changes)
                        {
                            if (change.Status == SiloStatus.Dead && !previous.Members.ContainsKey(change.SiloAddress))
                            {
                                continue; // first seen already dead: a row from before this silo started, not a change
                            }

                            metrics.RecordMembershipChange(change.Status);
                            TelemetryLog.MemberChanged(logger, change.Name, change.SiloAddress, change.Status);
                        }
                    }

                    previous = snapshot;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Never let watching stop the silo: log and watch again.
                TelemetryLog.MembershipWatchFailed(logger, ex.GetType().Name);
            }

            // The stream ended (the silo is stopping) or failed: wait a little before watching again.
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
