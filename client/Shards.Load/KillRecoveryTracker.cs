using System.Collections.Concurrent;
using System.Diagnostics;

namespace Shards.Load;

/// <summary>
/// Kill-to-recovery of the first silo a nemesis killed: the carts it hosted (as last located at the kill), when each
/// first answered a call started after the kill, and how long the calls in flight to them at the kill waited for a
/// successful answer. Thread-safe.
/// </summary>
internal sealed class KillRecoveryTracker(CartLocations locations, int carts)
{
    private readonly ConcurrentBag<long> _callerWaits = [];
    private long _killedAt;
    private string? _killedSilo;

    /// <summary>Per cart: -1 when the killed silo did not host it, 0 until it answered, then the ticks it took.</summary>
    private long[]? _recoveredAfter;

    /// <summary>True once a kill is tracked (only the first one is).</summary>
    public bool IsTracking => Volatile.Read(ref _recoveredAfter) is not null;

    /// <summary>Marks the carts the killed silo hosted; each records when it first answered a call started after the kill. Returns how many.</summary>
    public int Track(string silo)
    {
        var recovered = new long[carts];
        var hosted = 0;
        for (var cart = 0; cart < recovered.Length; cart++)
        {
            recovered[cart] = locations.SiloOf(cart) == silo ? 0 : -1;
            hosted += recovered[cart] == 0 ? 1 : 0;
        }

        _killedSilo = silo;
        Volatile.Write(ref _killedAt, Stopwatch.GetTimestamp());
        Volatile.Write(ref _recoveredAfter, recovered);
        return hosted;
    }

    /// <summary>
    /// A successful call to <paramref name="cart"/>. Kill-to-recovery as callers see it: every call to one of the
    /// killed silo's carts that was in flight at the kill waits from the kill to its successful answer. Separately, each
    /// such cart records when a call started after the kill first answered (how long until every key was served again).
    /// </summary>
    public void Note(int cart, long started, long ended)
    {
        var recovered = Volatile.Read(ref _recoveredAfter);
        var killedAt = Volatile.Read(ref _killedAt);
        if (recovered is null || Volatile.Read(ref recovered[cart]) < 0)
        {
            return;
        }

        if (started < killedAt)
        {
            if (ended > killedAt)
            {
                _callerWaits.Add(ended - killedAt);
            }
        }
        else
        {
            Interlocked.CompareExchange(ref recovered[cart], Math.Max(1, ended - killedAt), 0);
        }
    }

    /// <summary>For the report; null when no silo was killed.</summary>
    public KillRecovery? Report()
    {
        if (_recoveredAfter is not { } recovered || _killedSilo is null)
        {
            return null;
        }

        var tracked = recovered.Where(r => r >= 0).ToList();
        var answered = tracked.Count(r => r > 0);
        var waits = _callerWaits.Select(r => r / (double)Stopwatch.Frequency).Order().ToList();
        return new KillRecovery(
            _killedSilo,
            tracked.Count,
            answered,
            tracked.Count - answered,
            waits.Count,
            waits.Count == 0 ? null : waits[(waits.Count - 1) / 2],
            waits.Count == 0 ? null : waits[^1],
            tracked.Count > 0 && answered == tracked.Count ? tracked.Max() / (double)Stopwatch.Frequency : null);
    }
}
