using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Shards.Postgres;

namespace Shards.Server.Observability;

/// <summary>
/// Part of a silo's readiness (<c>/health/ready</c>): its PostgreSQL answers a query within a few seconds, on a connection
/// of the main database's data source (the silo's, <see cref="PostgresDataSources"/>).
/// </summary>
internal sealed class PostgresHealthCheck(NpgsqlDataSource database) : IHealthCheck
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_timeout);
        try
        {
            await using var connection = await database.OpenConnectionAsync(timeout.Token);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy($"PostgreSQL at {PostgresAvailability.Describe(database)} answers");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL at {PostgresAvailability.Describe(database)} does not answer: {ex.Message}");
        }
    }
}
