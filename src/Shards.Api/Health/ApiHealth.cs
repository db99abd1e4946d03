using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Shards.Api.Problems;

namespace Shards.Api.Health;

/// <summary>
/// <c>/health/live</c>: the process answers HTTP (no check runs). <c>/health/ready</c>: every check tagged
/// <see cref="ReadyTag"/> passes (this silo Active in the cluster; the host adds PostgreSQL reachable); 503 with
/// <c>Retry-After</c> otherwise. Both are open without an API key, for load balancers and orchestrators.
/// </summary>
public static class ApiHealth
{
    /// <summary>Tag of the checks <c>/health/ready</c> runs; a host adds its own (e.g. PostgreSQL) with it.</summary>
    public const string ReadyTag = "ready";

    internal static HealthCheckOptions Live() => new()
    {
        Predicate = _ => false,
        ResponseWriter = WriteAsync,
    };

    internal static HealthCheckOptions Ready() => new()
    {
        Predicate = check => check.Tags.Contains(ReadyTag),
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status200OK,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
        ResponseWriter = WriteAsync,
    };

    /// <summary>{ status, silo, checks: { name: { status, description } } }; a 503 also carries Retry-After.</summary>
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        if (context.Response.StatusCode == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = ApiProblems.RetryAfterSeconds(TimeSpan.FromSeconds(1));
        }

        context.Response.Headers.CacheControl = "no-store";
        var document = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                entry => entry.Key,
                entry => new { status = entry.Value.Status.ToString(), description = entry.Value.Description }),
        };
        return context.Response.WriteAsJsonAsync(document, JsonSerializerOptions.Web, context.RequestAborted);
    }
}
