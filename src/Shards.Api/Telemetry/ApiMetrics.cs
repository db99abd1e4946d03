using System.Diagnostics;
using System.Diagnostics.Metrics;
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
                var template = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
                var route = template is null ? "unmatched" : template.Length > 1 ? template.TrimEnd('/') : template;
                metrics.Record(route, context.Request.Method, context.Response.StatusCode, Stopwatch.GetElapsedTime(started));
            }
        });
    }
}
