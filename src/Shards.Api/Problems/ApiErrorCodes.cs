namespace Shards.Api.Problems;

/// <summary>The <c>code</c> member of every problem document: stable words a program can switch on.</summary>
public static class ApiErrorCodes
{
    public const string Validation = "validation";
    public const string NotFound = "notFound";
    public const string Conflict = "conflict";
    public const string Unavailable = "unavailable";
    public const string Unauthorized = "unauthorized";

    /// <summary>403: a valid API key without the scope the route needs. Nothing was done.</summary>
    public const string Forbidden = "forbidden";
    public const string RateLimited = "rateLimited";
    public const string PayloadTooLarge = "payloadTooLarge";
    public const string UnsupportedMediaType = "unsupportedMediaType";
    public const string Unexpected = "unexpected";

    /// <summary>422: an <c>Idempotency-Key</c> sent again with another method, route or body. Nothing was done.</summary>
    public const string IdempotencyKeyMismatch = "idempotencyKeyMismatch";

    /// <summary>409: the request's deadline passed before it was applied; it was not, and no copy of it will be.</summary>
    public const string Expired = "expired";

    /// <summary>409: the first request with this <c>Idempotency-Key</c> was never answered and can no longer be told.</summary>
    public const string OutcomeUnknown = "outcomeUnknown";
}
