using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Shards.Api.Options;

namespace Shards.Api.Health;

/// <summary>
/// A readiness check that costs something (a PostgreSQL round trip on the pool the grain storage also uses), run at
/// most once per <see cref="ShardsApiOptions.ReadinessCache"/>: every request in that window gets the same result, and
/// requests that arrive while it runs wait for that one run. A flood of anonymous <c>/health/ready</c> probes therefore
/// costs one connection per window, never one per request.
/// </summary>
public sealed class CachedHealthCheck<TCheck>(TCheck check, IOptions<ShardsApiOptions> options, TimeProvider time) : IHealthCheck
    where TCheck : IHealthCheck
{
    private readonly object _gate = new();
    private Task<HealthCheckResult>? _run;
    private long _ranAt;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        Task<HealthCheckResult> run;
        lock (_gate)
        {
            var fresh = _run is { } last &&
                (!last.IsCompleted || (last.IsCompletedSuccessfully && time.GetElapsedTime(_ranAt) < options.Value.ReadinessCache));
            if (!fresh)
            {
                _ranAt = time.GetTimestamp();
                // Not cancelled with the request that started it: other requests may wait for the same run.
                _run = check.CheckHealthAsync(context, CancellationToken.None);
            }

            run = _run!;
        }

        return run.WaitAsync(cancellationToken);
    }
}

/// <summary>Registers a readiness check behind <see cref="CachedHealthCheck{TCheck}"/>.</summary>
public static class CachedHealthCheckExtensions
{
    /// <summary>Adds <typeparamref name="TCheck"/> as the <see cref="ApiHealth.ReadyTag"/> check <paramref name="name"/>, cached.</summary>
    public static IHealthChecksBuilder AddCachedReadinessCheck<TCheck>(this IHealthChecksBuilder builder, string name)
        where TCheck : class, IHealthCheck
    {
        builder.Services.AddSingleton<TCheck>();
        builder.Services.AddSingleton<CachedHealthCheck<TCheck>>();
        return builder.AddCheck<CachedHealthCheck<TCheck>>(name, tags: [ApiHealth.ReadyTag]);
    }
}
