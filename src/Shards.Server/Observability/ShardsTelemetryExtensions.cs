using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Providers;
using Shards.Api.Security;
using Shards.Api.Telemetry;
using Shards.Client;
using Shards.Contracts;
using Shards.Server.Options;

namespace Shards.Server.Observability;

/// <summary>
/// OpenTelemetry in a silo: metrics of Shards (<see cref="ShardsMeter"/>), Orleans, ASP.NET Core, Npgsql and the .NET
/// runtime, and (over OTLP) traces of HTTP requests, grain calls and SQL commands, exported as
/// <see cref="ShardsTelemetryOptions"/> says.
/// </summary>
public static class ShardsTelemetryExtensions
{
    /// <summary>Orleans' meters (<c>Microsoft.Orleans</c>) and activity sources (<c>Microsoft.Orleans.Runtime</c>, <c>.Application</c>).</summary>
    public const string OrleansTelemetryNames = "Microsoft.Orleans*";

    /// <summary>The .NET runtime's own meter (GC, thread pool, exceptions, CPU) since .NET 9.</summary>
    public const string RuntimeMeter = "System.Runtime";

    /// <summary>Registers Shards' silo instruments and, unless <paramref name="telemetry"/>'s exporter is None, OpenTelemetry.</summary>
    public static IHostApplicationBuilder AddShardsTelemetry(this IHostApplicationBuilder builder, string siloName, ShardsTelemetryOptions telemetry)
    {
        builder.Services.AddSingleton<SiloMetrics>();
        builder.Services.AddSingleton<GrainCallCounters>();
        builder.Services.AddKeyedSingleton<IControllable>(GrainCallCounters.ProviderName, (services, _) => services.GetRequiredService<GrainCallCounters>());
        builder.Services.AllowGrainCallCountersOnTheWire();
        if (telemetry.Exporter == TelemetryExporter.None)
        {
            return builder;
        }

        builder.Services.AddHostedService<MembershipEventsWatcher>();
        builder.Services.AddHostedService<TelemetrySampler>();
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("shards-silo", serviceInstanceId: siloName));
        otel.WithMetrics(metrics =>
        {
            metrics.AddMeter(ShardsMeter.Name, OrleansTelemetryNames, RuntimeMeter)
                .AddAspNetCoreInstrumentation()
                .AddNpgsqlInstrumentation();
            if (telemetry.Exporter == TelemetryExporter.Prometheus)
            {
                metrics.AddPrometheusExporter(o => o.ScrapeEndpointPath = telemetry.MetricsPath);
            }
            else
            {
                metrics.AddOtlpExporter((exporter, reader) =>
                {
                    ConfigureOtlp(exporter, telemetry, "v1/metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)telemetry.OtlpExportInterval.TotalMilliseconds;
                });
            }
        });

        if (telemetry.Exporter == TelemetryExporter.Otlp && telemetry.Traces)
        {
            otel.WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(telemetry.TraceSampleRatio)))
                .AddSource(OrleansTelemetryNames)
                .AddAspNetCoreInstrumentation(o => o.Filter = context => context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal))
                .AddNpgsql()
                .AddOtlpExporter(exporter => ConfigureOtlp(exporter, telemetry, "v1/traces")));
        }

        return builder;
    }

    /// <summary>
    /// The silo-builder part: the grain-call counter and timer (counting always, for <c>shards top</c>; timing when
    /// exported), and trace propagation through grain calls when traces are exported.
    /// </summary>
    public static ISiloBuilder AddShardsSiloTelemetry(this ISiloBuilder silo, ShardsTelemetryOptions telemetry)
    {
        silo.AddIncomingGrainCallFilter<GrainCallMetricsFilter>();
        if (telemetry.Exporter == TelemetryExporter.None)
        {
            return silo;
        }

        if (telemetry.Exporter == TelemetryExporter.Otlp && telemetry.Traces)
        {
            silo.AddActivityPropagation();
        }

        return silo;
    }

    /// <summary>The Prometheus scrape endpoint, when that is the exporter: behind the API keys unless configured otherwise.</summary>
    public static WebApplication MapShardsTelemetry(this WebApplication app)
    {
        var telemetry = app.Services.GetRequiredService<IOptions<ShardsTelemetryOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ShardsTelemetryExtensions));
        switch (telemetry.Exporter)
        {
            case TelemetryExporter.Prometheus:
                var endpoint = app.MapPrometheusScrapingEndpoint(telemetry.MetricsPath).DisableRateLimiting();
                _ = telemetry.MetricsRequireApiKey ? endpoint.RequireOperatorKey() : endpoint.AllowAnonymous();
                TelemetryLog.Exporting(logger, "Prometheus", $": scrape {telemetry.MetricsPath} on the HTTP port ({(telemetry.MetricsRequireApiKey ? "API key required" : "no key")})");
                break;
            case TelemetryExporter.Otlp:
                TelemetryLog.Exporting(logger, "OTLP", $" to {telemetry.OtlpEndpoint} ({telemetry.OtlpProtocol}; traces {(telemetry.Traces ? $"sampled at {telemetry.TraceSampleRatio:0.###}" : "off")})");
                break;
            default:
                TelemetryLog.Exporting(logger, "no", " (Shards:Telemetry:Exporter=None): no metrics, no traces");
                break;
        }

        return app;
    }

    private static void ConfigureOtlp(OtlpExporterOptions exporter, ShardsTelemetryOptions telemetry, string signalPath)
    {
        var endpoint = new Uri(telemetry.OtlpEndpoint!);
        if (telemetry.OtlpProtocol == OtlpWireProtocol.HttpProtobuf)
        {
            // Set in code, the HTTP endpoint is used as is: the signal's path is added to a bare base URL.
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            exporter.Endpoint = endpoint.AbsolutePath is "/" or "" ? new Uri(endpoint, signalPath) : endpoint;
        }
        else
        {
            exporter.Protocol = OtlpExportProtocol.Grpc;
            exporter.Endpoint = endpoint;
        }
    }

}
