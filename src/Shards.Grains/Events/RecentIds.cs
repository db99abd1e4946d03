namespace Shards.Grains.Events;

/// <summary>A bounded list of IDs (events handled, orders settled) kept in a grain's state, oldest first.</summary>
internal static class RecentIds
{
    public static bool Contains(string[] ids, string id) => Array.IndexOf(ids, id) >= 0;

    /// <summary><paramref name="ids"/> with <paramref name="id"/> added at the end, keeping the last <paramref name="limit"/>.</summary>
    public static string[] Add(string[] ids, string id, int limit)
    {
        var keep = Math.Min(ids.Length, limit - 1);
        var next = new string[keep + 1];
        Array.Copy(ids, ids.Length - keep, next, 0, keep);
        next[keep] = id;
        return next;
    }
}
