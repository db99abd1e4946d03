using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Shards.Postgres;

namespace Shards.Server.Observability;

/// <summary>Part of a silo's readiness (<c>/health/ready</c>): its PostgreSQL answers a query within a few seconds.</summary>
internal sealed class PostgresHealthCheck(ShardsConnectionString connectionString) : IHealthCheck
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_timeout);
        try
        {
            await using var connection = new NpgsqlConnection(connectionString.Value);
            await connection.OpenAsync(timeout.Token);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy($"PostgreSQL at {connectionString} answers");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL at {connectionString} does not answer: {ex.Message}");
        }
    }
}
