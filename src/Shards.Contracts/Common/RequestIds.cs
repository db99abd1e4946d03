namespace Shards.Contracts.Common;

/// <summary>
/// Every Shards command carries a request ID in the Orleans request context. A client that re-sends a command
/// (because the silo died or the call timed out) re-sends the same ID, and the grain applies it once.
/// </summary>
public static class RequestIds
{
    /// <summary>The request-context key; the value is a <see cref="Guid"/>.</summary>
    public const string ContextKey = "shards.request-id";
}
