namespace Shards.Contracts.Common;

/// <summary>
/// Every Shards command carries a request ID and a deadline in the Orleans request context. A client that re-sends a
/// command (because the silo died or the call timed out) re-sends the same ID with the same deadline, and the grain
/// applies it once: it finds the ID in its request log (stored in the same transaction as the change) and answers the
/// original outcome. No copy of a request is applied after its deadline (the grain answers
/// <see cref="ShardsErrorCode.Expired"/>), so a log entry need only be kept until its request's deadline has passed
/// (docs/exactly-once.md).
/// </summary>
public static class RequestIds
{
    /// <summary>The request-context key of the request ID; the value is a <see cref="Guid"/>.</summary>
    public const string ContextKey = "shards.request-id";

    /// <summary>
    /// The request-context key of the request's deadline; the value is a <see cref="DateTimeOffset"/> (UTC). Every copy
    /// of one request carries the same deadline: it is chosen once, when the request is first sent.
    /// </summary>
    public const string DeadlineContextKey = "shards.request-deadline";

    /// <summary>
    /// The longest a request may live: a grain refuses (Validation) a deadline further ahead than this, so that no
    /// request can outlive the request log that deduplicates it.
    /// </summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(10);

    /// <summary>The deadline of the request being sent or served, if it has one.</summary>
    public static DateTimeOffset? CurrentDeadline() => RequestContext.Get(DeadlineContextKey) as DateTimeOffset?;

    /// <summary>The ID of the request being sent or served, if it has one.</summary>
    public static Guid? CurrentId() => RequestContext.Get(ContextKey) as Guid?;
}
