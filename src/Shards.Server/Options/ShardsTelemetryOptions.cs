namespace Shards.Server.Options;

/// <summary>Where a silo's metrics and traces go (<see cref="ShardsTelemetryOptions.Exporter"/>).</summary>
public enum TelemetryExporter
{
    /// <summary>No OpenTelemetry at all: nothing is collected, nothing is served.</summary>
    None,

    /// <summary>Metrics on a Prometheus scrape endpoint of the silo's HTTP server (<see cref="ShardsTelemetryOptions.MetricsPath"/>); no traces.</summary>
    Prometheus,

    /// <summary>Metrics and traces pushed over OTLP to <see cref="ShardsTelemetryOptions.OtlpEndpoint"/> (a collector, Jaeger, Tempo...).</summary>
    Otlp,
}

/// <summary>The OTLP wire protocol.</summary>
public enum OtlpWireProtocol
{
    /// <summary>gRPC, usually on port 4317.</summary>
    Grpc,

    /// <summary>HTTP with protobuf bodies, usually on port 4318 (paths /v1/metrics and /v1/traces).</summary>
    HttpProtobuf,
}

/// <summary>
/// OpenTelemetry in a silo (section <c>Shards:Telemetry</c>; environment <c>Shards__Telemetry__...</c>): Orleans',
/// ASP.NET Core's, Npgsql's, the runtime's and Shards' own meters, exported as chosen here.
/// </summary>
public sealed class ShardsTelemetryOptions
{
    public const string Section = "Shards:Telemetry";

    /// <summary>
    /// <c>Prometheus</c> (default: metrics are only aggregated in memory and formatted when scraped), <c>Otlp</c> or
    /// <c>None</c>.
    /// </summary>
    public TelemetryExporter Exporter { get; set; } = TelemetryExporter.Prometheus;

    /// <summary>Path of the Prometheus scrape endpoint on the silo's HTTP server.</summary>
    public string MetricsPath { get; set; } = "/metrics";

    /// <summary>
    /// True (default): the scrape endpoint wants an API key like the API does (<c>X-Api-Key</c>, or HTTP Basic / Bearer
    /// with the key as the password / token, which Prometheus' <c>basic_auth</c> and <c>authorization</c> send).
    /// False: anyone who reaches the silo's HTTP port may scrape.
    /// </summary>
    public bool MetricsRequireApiKey { get; set; } = true;

    /// <summary>OTLP receiver, e.g. <c>http://127.0.0.1:4317</c> (gRPC) or <c>http://127.0.0.1:4318</c> (HTTP); required with <c>Otlp</c>.</summary>
    public string? OtlpEndpoint { get; set; }

    public OtlpWireProtocol OtlpProtocol { get; set; } = OtlpWireProtocol.Grpc;

    /// <summary>How often metrics are pushed over OTLP.</summary>
    public TimeSpan OtlpExportInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Export traces (ASP.NET Core requests, grain calls, Npgsql commands) when the exporter is OTLP.</summary>
    public bool Traces { get; set; } = true;

    /// <summary>Share of new traces kept (0-1); a trace whose parent was sampled is always kept.</summary>
    public double TraceSampleRatio { get; set; } = 0.1;

    /// <summary>How often a silo counts its own activations of Shards' grains (<c>shards.grain.activations</c>).</summary>
    public TimeSpan ActivationSamplePeriod { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often a silo counts rows and bytes of grain state per shard database (<c>shards.shard.rows</c>,
    /// <c>shards.shard.bytes</c>): a scan of the state table, so rarely. Zero turns it off.
    /// </summary>
    public TimeSpan ShardSizeSamplePeriod { get; set; } = TimeSpan.FromMinutes(1);
}
