using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Shards.Api.Problems;
using Shards.Api.Security;

namespace Shards.Api.Health;

/// <summary>
/// <c>/health/live</c>: the process answers HTTP (no check runs). <c>/health/ready</c>: every check tagged
/// <see cref="ReadyTag"/> passes (this silo Active in the cluster; the host adds PostgreSQL reachable); 503 with
/// <c>Retry-After</c> otherwise. Both are open without an API key, for load balancers and orchestrators, and say no more
/// than their status to a caller without the operator scope: which checks ran and what they found (host, port and
/// database names, the driver's error text) only to a caller whose API key has it (<c>X-Api-Key</c>, Basic password or
/// Bearer token). Readiness
/// checks that cost a round trip run at most once per <see cref="Options.ShardsApiOptions.ReadinessCache"/> (<see cref="CachedHealthCheck{TCheck}"/>).
/// </summary>
public static class ApiHealth
{
    /// <summary>Tag of the checks <c>/health/ready</c> runs; a host adds its own (e.g. PostgreSQL) with it.</summary>
    public const string ReadyTag = "ready";

    internal static HealthCheckOptions Live() => new()
    {
        Predicate = _ => false,
        ResponseWriter = (context, report) => WriteAsync(context, report, detailed: false),
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
        ResponseWriter = async (context, report) =>
            await WriteAsync(context, report, detailed: await HasOperatorKeyAsync(context)),
    };

    /// <summary>True when the request carries a valid API key with the operator scope (header, Basic password or Bearer token).</summary>
    private static async Task<bool> HasOperatorKeyAsync(HttpContext context)
    {
        var result = await context.AuthenticateAsync(OperatorKeyAuthenticationHandler.SchemeName);
        return result.Succeeded && ApiKeyTickets.ScopesOf(result.Principal).Contains(ApiScopes.Operator);
    }

    /// <summary>{ status } for anyone; { status, checks: { name: { status, description } } } with an operator key; a 503 also carries Retry-After.</summary>
    private static Task WriteAsync(HttpContext context, HealthReport report, bool detailed)
    {
        if (context.Response.StatusCode == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = ApiProblems.RetryAfterSeconds(TimeSpan.FromSeconds(1));
        }

        context.Response.Headers.CacheControl = "no-store";
        object document = detailed
            ? new
            {
                status = report.Status.ToString(),
                checks = report.Entries.ToDictionary(
                    entry => entry.Key,
                    entry => new { status = entry.Value.Status.ToString(), description = entry.Value.Description }),
            }
            : new { status = report.Status.ToString() };
        return context.Response.WriteAsJsonAsync(document, JsonSerializerOptions.Web, context.RequestAborted);
    }
}
