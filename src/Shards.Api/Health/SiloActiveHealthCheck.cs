using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Shards.Api.Health;

/// <summary>Ready only while this silo is Active in the cluster's membership.</summary>
internal sealed class SiloActiveHealthCheck(SiloReadiness readiness) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(readiness.IsActive
            ? HealthCheckResult.Healthy($"{readiness.SiloName} is Active in the cluster")
            : HealthCheckResult.Unhealthy(readiness.DescribeNotReady()));
}
