namespace Shards.Api.Problems;

/// <summary>The <c>code</c> member of every problem document: stable words a program can switch on.</summary>
public static class ApiErrorCodes
{
    public const string Validation = "validation";
    public const string NotFound = "notFound";
    public const string Conflict = "conflict";
    public const string Unavailable = "unavailable";
    public const string Unauthorized = "unauthorized";
    public const string RateLimited = "rateLimited";
    public const string PayloadTooLarge = "payloadTooLarge";
    public const string UnsupportedMediaType = "unsupportedMediaType";
    public const string Unexpected = "unexpected";
}
