using System.Diagnostics;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;

namespace Shards.Load;

/// <summary>
/// <c>shards load --chaos pg-restart</c>: stops the private PostgreSQL (fast shutdown: sessions ended, committed data
/// kept), keeps it down for the outage, then starts it again on the same port. It is started again however the run
/// ends (time up, Ctrl+C), before the write check reads the carts back.
/// </summary>
public sealed class PostgresRestartChaos(PrivatePostgresServer server, TimeSpan outage) : IChaos
{
    private long _stoppedAt;

    /// <summary>The chaos for the private server, or a message a person can act on when it does not run.</summary>
    public static async Task<(PostgresRestartChaos? Chaos, string? Problem)> ForAsync(PrivatePostgresServer server, TimeSpan outage, CancellationToken cancellationToken)
    {
        var status = await server.GetStatusAsync(cancellationToken);
        return status.Running
            ? (new PostgresRestartChaos(server, outage), null)
            : (null, $"--chaos pg-restart needs the private PostgreSQL in {server.RootDirectory} running (start it with 'shards cluster up' or 'shards db start').");
    }

    public async Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken)
    {
        await server.StopAsync(CancellationToken.None);
        Volatile.Write(ref _stoppedAt, Stopwatch.GetTimestamp());
        return new ChaosAction(
            "pg stopped", $"private PostgreSQL in {server.RootDirectory} (pg_ctl stop -m fast) for {LoadDuration.Format(outage)}", Outage: OutagePhase.Began);
    }

    public async Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        var stoppedAt = Volatile.Read(ref _stoppedAt);
        var left = outage - Stopwatch.GetElapsedTime(stoppedAt);
        if (stoppedAt == 0)
        {
            return; // never struck
        }

        try
        {
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended early: PostgreSQL is started again all the same.
        }

        try
        {
            var connectionString = await server.StartAsync(CancellationToken.None);
            onChange(new ChaosAction(
                "pg started", $"{PostgresAvailability.Describe(connectionString)} after {Stopwatch.GetElapsedTime(stoppedAt).TotalSeconds:0.0} s down", Outage: OutagePhase.Ended));
        }
        catch (Exception ex) when (ex is PostgresNotAvailableException or Npgsql.NpgsqlException or IOException)
        {
            onChange(new ChaosAction("pg start FAILED", $"{ex.Message.Split(Environment.NewLine)[0]} (start it with 'shards db start')"));
        }
    }
}
