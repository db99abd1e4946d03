using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Shards.Contracts;

namespace Shards.Api.Telemetry;

/// <summary>
/// <c>shards.api.request.duration</c>: one measurement per request under /api, tagged with its route template (not the
/// raw path, so keys do not multiply the series), method and status. Its count is the request rate.
/// </summary>
public sealed class ApiMetrics
{
    public const string RequestDuration = "shards.api.request.duration";

    private readonly Histogram<double> _duration;

    public ApiMetrics(IMeterFactory meters) =>
        _duration = meters.Create(ShardsMeter.Name).CreateHistogram<double>(
            RequestDuration, unit: "s", description: "Duration of HTTP API requests (/api/*), by route, method and status");

    public void Record(string route, string method, int status, TimeSpan elapsed)
    {
        if (!_duration.Enabled)
        {
            return;
        }

        _duration.Record(elapsed.TotalSeconds, new TagList
        {
            { "http.route", route },
            { "http.request.method", method },
            { "http.response.status_code", status },
        });
    }
}

/// <summary>The middleware that feeds <see cref="ApiMetrics"/>; placed after routing, so the route template is known.</summary>
internal static class ApiMetricsMiddleware
{
    // The route tag of each endpoint, made once (a template ends in '/' under a group: trimmed, not for every request).
    private static readonly ConditionalWeakTable<Endpoint, string> s_routes = [];

    public static IApplicationBuilder UseApiMetrics(this IApplicationBuilder app)
    {
        var metrics = app.ApplicationServices.GetRequiredService<ApiMetrics>();
        return app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal))
            {
                await next(context);
                return;
            }

            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                metrics.Record(RouteOf(context.GetEndpoint()), context.Request.Method, context.Response.StatusCode, Stopwatch.GetElapsedTime(started));
            }
        });
    }

    /// <summary>The endpoint's route template without a trailing '/', or <c>unmatched</c>.</summary>
    internal static string RouteOf(Endpoint? endpoint) =>
        endpoint is RouteEndpoint { RoutePattern.RawText: not null } route
            ? s_routes.GetValue(route, static e => ((RouteEndpoint)e).RoutePattern.RawText! is var template && template.Length > 1 ? template.TrimEnd('/') : template)
            : "unmatched";
}
