using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Shards.Postgres;

namespace Shards.Client;

/// <summary>
/// The client's second sign of a dead silo, for the silos it has no connection to. A client connects to a gateway only
/// when it needs one, and learns of a new gateway only at its next gateway-list refresh; a silo that joined a moment
/// ago can already host keys (the client's calls reach it through other gateways, which forward them and keep no
/// record), so when it is killed the client sees no connection drop and those calls wait for the response timeout.
/// This watch reads the membership table's version every <see cref="ShardsClientOptions.DeathWatchPeriod"/> (one
/// indexed single-row query), and when a silo it saw alive is now marked Dead it trips the
/// <see cref="GatewayLossSignal"/>: the calls in flight are resent at once, now that survivors place the dead silo's keys.
/// With the launcher's help the mark is written a few ms after the kill. A PostgreSQL outage only slows the polling.
/// It reads on the main database's data source (<see cref="PostgresDataSources"/>), one connection at a time.
/// </summary>
internal sealed partial class MembershipDeathWatch(
    NpgsqlDataSource database, string clusterId, ShardsClientOptions options, GatewayLossSignal signal, ILogger<MembershipDeathWatch> logger,
    TimeProvider? time = null)
    : BackgroundService
{
    private static readonly TimeSpan s_backoffWhenUnreachable = TimeSpan.FromSeconds(1);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Longest wait for the version query, in seconds: a slow database only slows the polling.</summary>
    private const int VersionQueryTimeout = 5;

    private readonly MembershipTableReader _membership = new(database);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.DeathWatchPeriod <= TimeSpan.Zero)
        {
            return;
        }

        int? version = null;
        HashSet<string>? alive = null;
        var unreachable = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var current = await ReadVersionAsync(stoppingToken);
                if (current != version)
                {
                    var rows = await _membership.ReadAsync(clusterId, stoppingToken);
                    var nowAlive = rows.Where(r => r.Status != SiloStatusCode.Dead).Select(r => r.SiloAddress).ToHashSet(StringComparer.Ordinal);
                    var died = alive is null ? [] : rows.Where(r => r.Status == SiloStatusCode.Dead && alive.Contains(r.SiloAddress)).ToList();
                    foreach (var silo in died)
                    {
                        LogDeclaredDead(logger, silo.SiloName, silo.SiloAddress);
                    }

                    if (died.Count > 0)
                    {
                        signal.Trip();
                    }

                    (version, alive) = (current, nowAlive);
                }

                unreachable = false;
                await Task.Delay(options.DeathWatchPeriod, _time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Never let the watch stop the client's host: PostgreSQL down, a query timing out, anything else.
                if (!unreachable)
                {
                    LogUnreachable(logger, ex.Message);
                    unreachable = true;
                }

                await Task.Delay(s_backoffWhenUnreachable, _time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task<int?> ReadVersionAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT version FROM orleans_membership_version WHERE deploymentid = $1");
        command.CommandTimeout = VersionQueryTimeout;
        command.Parameters.Add(new NpgsqlParameter { Value = clusterId });
        return await command.ExecuteScalarAsync(cancellationToken) is int version ? version : null;
    }

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "The membership table marks silo {Silo} ({SiloAddress}) dead: calls in flight are resent now")]
    private static partial void LogDeclaredDead(ILogger logger, string silo, string siloAddress);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "Cannot read the membership table to watch for dead silos ({Reason}); trying again every second")]
    private static partial void LogUnreachable(ILogger logger, string reason);
}
