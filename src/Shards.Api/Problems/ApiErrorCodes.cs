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

    /// <summary>405: the route exists, but not with this method (the <c>Allow</c> header lists its methods).</summary>
    public const string MethodNotAllowed = "methodNotAllowed";

    /// <summary>
    /// The code of a problem its writer gave none (the framework's: no route, wrong method): the one Shards uses for that
    /// status elsewhere.
    /// </summary>
    public static string ForStatus(int status) => status switch
    {
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        409 => Conflict,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        429 => RateLimited,
        502 or 503 or 504 => Unavailable,
        >= 500 => Unexpected,
        _ => Validation,
    };
}
