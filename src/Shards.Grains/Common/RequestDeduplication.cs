using Shards.Contracts.Common;

namespace Shards.Grains.Common;

/// <summary>
/// Applies each command once. A grain keeps the IDs of the last <see cref="Remembered"/> commands it applied in
/// its persisted state, written in the same storage write as the change itself: a retried command (same ID, e.g.
/// after a timeout whose first attempt did land, or after a failover) finds its ID and is answered without being
/// applied again, on whichever silo the grain now lives.
/// </summary>
internal static class RequestDeduplication
{
    /// <summary>
    /// How many applied request IDs a grain remembers. A retry comes within the client's retry budget (30 s), so this
    /// covers a key written up to ~2 times a second; a hotter key could see an old retry applied again.
    /// </summary>
    public const int Remembered = 64;

    /// <summary>The request ID of the call being served, if the caller sent one.</summary>
    public static Guid? Current() => RequestContext.Get(RequestIds.ContextKey) as Guid?;

    /// <summary>True when the current command was already applied.</summary>
    public static bool AlreadyApplied(Guid[] applied) => Current() is { } id && Array.IndexOf(applied, id) >= 0;

    /// <summary>The remembered IDs after applying the current command.</summary>
    public static Guid[] Record(Guid[] applied)
    {
        if (Current() is not { } id)
        {
            return applied;
        }

        var keep = Math.Min(applied.Length, Remembered - 1);
        var next = new Guid[keep + 1];
        Array.Copy(applied, applied.Length - keep, next, 0, keep);
        next[keep] = id;
        return next;
    }
}
