using Microsoft.Extensions.Logging;

namespace Shards.Grains.Common;

/// <summary>Every log message the grains write, with stable event IDs (1000-1099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning,
        Message = "Storage write for {GrainId} failed; the activation keeps the last acknowledged state")]
    public static partial void WriteFailed(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning,
        Message = "Storage write for {GrainId} met a concurrent writer (etag mismatch); deactivating so the state is reloaded")]
    public static partial void WriteConflict(ILogger logger, GrainId grainId, Exception exception);
}
