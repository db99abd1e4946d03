using System.Net;
using Shards.Contracts.Common;
using Shards.History;

namespace Shards.Load;

/// <summary>
/// What a failed call of the load means for the history: a Shards domain refusal (validation, not found, conflict, a
/// request past its deadline; over HTTP 400, 404, 409 or 422) definitely changed nothing, nor did a request the HTTP
/// API's rate limiter turned away (429: refused before any endpoint ran); anything else (a timeout, storage
/// unavailable, a transport error, HTTP 5xx) may have been applied: its outcome is unknown.
/// </summary>
public static class LoadOutcomes
{
    public static OperationOutcome Classify(Exception failure) => failure switch
    {
        _ when ShardsFailures.Find(failure) is { } shards => shards.Code is
            ShardsErrorCode.Validation or ShardsErrorCode.NotFound or ShardsErrorCode.Conflict or ShardsErrorCode.Expired
                ? OperationOutcome.Failed
                : OperationOutcome.Unknown,
        HttpRequestException { StatusCode: HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity or HttpStatusCode.TooManyRequests } =>
            OperationOutcome.Failed,
        _ => OperationOutcome.Unknown,
    };
}
