using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Shards.Server.Silo;

/// <summary>
/// What a silo process does on a fatal error, above all when it learns that the cluster declared it dead: it says why
/// on standard error and in the log, and fails fast at once. Orleans' own handler first sleeps 2 s "for loggers to
/// flush", and during those 2 s a silo that the cluster already declared dead keeps its gateway and silo connections
/// open: clients whose calls go through its gateway wait on it, and it can still answer them. Measured under a network
/// partition (docs/partitions.md), those 2 s were most of the time between the death declaration and every key
/// answering again. The exit code is still 134 (SIGABRT from <see cref="Environment.FailFast(string?, Exception?)"/>),
/// and a supervisor restarts the silo as before. Only for silo processes: an in-process test cluster keeps its own handler.
/// </summary>
internal sealed partial class ImmediateFatalErrorHandler(ILogger<ImmediateFatalErrorHandler> logger) : IFatalErrorHandler
{
    public bool IsUnexpected(Exception exception) => true;

    public void OnFatalException(object? sender = null, string? context = null, Exception? exception = null)
    {
        LogFatal(logger, exception, sender?.ToString() ?? "unknown", context ?? "none");
        var message = $"FATAL: {sender?.ToString() ?? "unknown"}: {context ?? "no context"}" +
            (exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message})") + ". The silo process stops now.";
        Console.Error.WriteLine(message);
        Console.Error.Flush();
        Environment.FailFast(message, exception);
    }

    [LoggerMessage(EventId = 1120, Level = LogLevel.Critical, Message = "Fatal error from {Sender}: {Context}. The silo process stops now")]
    private static partial void LogFatal(ILogger logger, Exception? exception, string sender, string context);
}
