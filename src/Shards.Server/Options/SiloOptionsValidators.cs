using System.Net;
using Microsoft.Extensions.Options;

namespace Shards.Server.Options;

/// <summary>Checks <c>Shards:Silo</c>: two distinct ports, IP addresses.</summary>
public sealed class SiloEndpointOptionsValidator : IValidateOptions<SiloEndpointOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloEndpointOptions options)
    {
        var failures = new List<string>();
        if (options.SiloPort is < 1 or > 65535 || options.GatewayPort is < 1 or > 65535)
        {
            failures.Add("SiloPort and GatewayPort must be 1-65535");
        }
        else if (options.SiloPort == options.GatewayPort)
        {
            failures.Add("SiloPort and GatewayPort must differ");
        }

        if (!IPAddress.TryParse(options.AdvertisedAddress, out _) || !IPAddress.TryParse(options.ListenAddress, out _))
        {
            failures.Add("AdvertisedAddress and ListenAddress must be IP addresses");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Checks <c>Shards:FailureDetection</c>: Orleans would accept these values and then detect nothing.</summary>
public sealed class FailureDetectionOptionsValidator : IValidateOptions<FailureDetectionOptions>
{
    public ValidateOptionsResult Validate(string? name, FailureDetectionOptions options)
    {
        var failures = new List<string>();
        if (options.ProbeTimeout <= TimeSpan.Zero || options.IAmAlivePublishPeriod <= TimeSpan.Zero || options.DefunctSiloExpiration <= TimeSpan.Zero
            || options.DefunctSiloCleanupPeriod <= TimeSpan.Zero || options.PlacementRetryBaseDelay < TimeSpan.Zero)
        {
            failures.Add("Shards:FailureDetection:ProbeTimeout, IAmAlivePublishPeriod, DefunctSiloExpiration and DefunctSiloCleanupPeriod must be positive; PlacementRetryBaseDelay cannot be negative.");
        }

        if (options.TableRefreshPeriod is { } refresh && refresh <= TimeSpan.Zero)
        {
            failures.Add("Shards:FailureDetection:TableRefreshPeriod must be positive (leave it out for Orleans' 60 s).");
        }

        if (options.MissedProbesLimit < 1 || options.VotesForDeathDeclaration < 1 || options.PlacementMaxRetries < 0)
        {
            failures.Add("Shards:FailureDetection:MissedProbesLimit and VotesForDeathDeclaration must be at least 1; PlacementMaxRetries cannot be negative.");
        }

        if (options.MajorityLeaseEnabled && LeaseFailure(options) is { } lease)
        {
            failures.Add(lease);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// The majority lease is safe only if it runs out before the majority can declare this silo dead. Orleans 10 probes
    /// adaptively: each probe's timeout, and the pause to the next, is its round-trip estimate clamped to at least
    /// MinProbeTimeout, which Orleans derives as ProbeTimeout / 2; a probe sent just before a cut counts as missed when it
    /// times out just after it. So a peer can miss MissedProbesLimit probes in a row (MissedProbesLimit - 1) x ProbeTimeout / 2
    /// after the cut (1 s with the defaults). Orleans' connection liveness check usually holds votes back longer
    /// (MaxProbeTimeout x MissedProbesLimit after the last message from the silo), but only while a connection to it is
    /// open, so the lease does not count on it.
    /// </summary>
    private static string? LeaseFailure(FailureDetectionOptions options)
    {
        var earliestDeath = EarliestDeathDeclaration(options);
        if (options.LeaseProbePeriod <= TimeSpan.Zero)
        {
            return "Shards:FailureDetection:LeaseProbePeriod must be positive.";
        }

        if (options.MajorityLease <= options.LeaseProbePeriod || options.MajorityLease >= earliestDeath)
        {
            return $"Shards:FailureDetection:MajorityLease ({options.MajorityLease.TotalSeconds:0.###} s) must be longer than LeaseProbePeriod " +
                $"({options.LeaseProbePeriod.TotalSeconds:0.###} s) and shorter than (MissedProbesLimit - 1) x ProbeTimeout / 2 " +
                $"({options.MissedProbesLimit - 1} x {options.ProbeTimeout.TotalSeconds / 2:0.###} s = {earliestDeath.TotalSeconds:0.###} s), the earliest the " +
                "other silos can declare a cut-off silo dead: a longer lease would let it answer from a stale activation after its grains " +
                "were activated elsewhere. Shorten MajorityLease, raise ProbeTimeout or MissedProbesLimit, or set MajorityLeaseEnabled=false.";
        }

        return null;
    }

    /// <summary>The earliest the other silos can declare a cut-off silo dead after the cut, counting on probes alone (see <see cref="LeaseFailure"/>).</summary>
    public static TimeSpan EarliestDeathDeclaration(FailureDetectionOptions options) =>
        options.ProbeTimeout / 2 * Math.Max(options.MissedProbesLimit - 1, 0);
}

/// <summary>Checks <c>Shards:Dashboard</c>.</summary>
public sealed class ShardsDashboardOptionsValidator : IValidateOptions<ShardsDashboardOptions>
{
    public ValidateOptionsResult Validate(string? name, ShardsDashboardOptions options) =>
        options.Path.StartsWith('/') && options.Path.Length > 1 && !options.Path.StartsWith("/api", StringComparison.Ordinal)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Shards:Dashboard:Path must start with / and not be under /api (e.g. /dashboard)");
}

/// <summary>Checks <c>Shards:Telemetry</c>.</summary>
public sealed class ShardsTelemetryOptionsValidator : IValidateOptions<ShardsTelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, ShardsTelemetryOptions options)
    {
        var failures = new List<string>();
        if (options.Exporter == TelemetryExporter.Otlp && !IsHttpUri(options.OtlpEndpoint))
        {
            failures.Add("Shards:Telemetry:OtlpEndpoint must be an http(s) URL (e.g. http://127.0.0.1:4317) when Shards:Telemetry:Exporter is Otlp");
        }

        if (!options.MetricsPath.StartsWith('/') || options.MetricsPath.Length <= 1)
        {
            failures.Add("Shards:Telemetry:MetricsPath must start with / (e.g. /metrics)");
        }

        if (options.TraceSampleRatio is < 0 or > 1)
        {
            failures.Add("Shards:Telemetry:TraceSampleRatio must be between 0 and 1");
        }

        if (options.ActivationSamplePeriod < TimeSpan.FromSeconds(1) || options.ShardSizeSamplePeriod < TimeSpan.Zero || options.OtlpExportInterval < TimeSpan.FromSeconds(1))
        {
            failures.Add("Shards:Telemetry:ActivationSamplePeriod and OtlpExportInterval must be at least 1 s; ShardSizeSamplePeriod must not be negative (0 turns it off)");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsHttpUri(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
