using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Shards.Server.Observability;

/// <summary>Every log message of the silo's observability parts, with stable event IDs (1600-1699).</summary>
internal static partial class TelemetryLog
{
    [LoggerMessage(EventId = 1601, Level = LogLevel.Information, Message = "Telemetry: {Exporter} exporter{Detail}")]
    public static partial void Exporting(ILogger logger, string exporter, string detail);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Information, Message = "Cluster membership: silo {SiloName} ({Silo}) is now {Status}")]
    public static partial void MemberChanged(ILogger logger, string siloName, SiloAddress silo, SiloStatus status);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Debug, Message = "Could not sample {What}: {Error}; trying again in {PeriodSeconds:0} s")]
    public static partial void SampleFailed(ILogger logger, string what, string error, double periodSeconds);

    [LoggerMessage(EventId = 1604, Level = LogLevel.Information, Message = "Orleans Dashboard served at {Path} (API key required)")]
    public static partial void DashboardServed(ILogger logger, string path);

    [LoggerMessage(EventId = 1605, Level = LogLevel.Warning, Message = "Watching cluster membership failed ({Error}); watching again")]
    public static partial void MembershipWatchFailed(ILogger logger, string error);
}
