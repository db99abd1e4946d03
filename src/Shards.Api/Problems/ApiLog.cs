using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Shards.Api.Problems;

/// <summary>Every log message of the HTTP API, with stable event IDs (3000-3099). API keys never appear.</summary>
internal static partial class ApiLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "HTTP API listening on http://{Address}:{Port} ({KeyCount} API key(s) configured)")]
    public static partial void Listening(ILogger logger, string address, int port, int keyCount);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "HTTP API has no API keys configured: every request except /health/* gets 401 (set Shards__Api__Keys__0)")]
    public static partial void NoKeys(ILogger logger);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Refused a request to {Path}: wrong API key")]
    public static partial void WrongApiKey(ILogger logger, PathString path);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "Retrying {Operation} (attempt {Attempt} failed with {Error}) in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string operation, int attempt, string error, double delayMs);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "{Operation} failed after retrying for {Seconds:0.0} s: {Error}; answered 503")]
    public static partial void GaveUp(ILogger logger, string operation, double seconds, string error);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error, Message = "Unexpected error serving {Method} {Path}")]
    public static partial void Unexpected(ILogger logger, string method, PathString path, Exception exception);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Debug, Message = "Rate limit: {Key} got 429 on {Path}")]
    public static partial void RateLimited(ILogger logger, string key, PathString path);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Answered 503 to {Method} {Route} without running it: its Idempotency-Key record could not be read or written ({Reason})")]
    public static partial void IdempotencyStoreUnavailable(ILogger logger, string method, string route, string reason);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning, Message = "Answered {Status} for Idempotency-Key {Key} but could not store the answer ({Reason}); a retry runs the call again under the same request ID")]
    public static partial void IdempotencyAnswerNotStored(ILogger logger, string key, int status, string reason);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Idempotency-Key {Key}: request {Expired} expired without being applied; running it again as request {RequestId}")]
    public static partial void IdempotencyRearmed(ILogger logger, string key, Guid expired, Guid requestId);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Debug, Message = "Pruned {Count} Idempotency-Key record(s) past their retention")]
    public static partial void IdempotencyPruned(ILogger logger, int count);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Pruning Idempotency-Key records failed ({Reason}); trying again next period")]
    public static partial void IdempotencyPruneFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Debug, Message = "Refused {Method} {Path} to {Key} with 403: the route needs scope {Scope}, the key has {Scopes}")]
    public static partial void MissingScope(ILogger logger, string method, PathString path, string key, string scope, string scopes);
}
