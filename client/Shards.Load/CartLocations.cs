using System.Diagnostics;

namespace Shards.Load;

/// <summary>
/// Which silo each cart lives on, as last located, and when it was asked: located once before the run, then again in
/// the background (one request at a time per cart) after a failed call, or when the location is older than the last
/// change the nemeses made to the cluster. Thread-safe.
/// </summary>
internal sealed class CartLocations(ILoadTarget target, int carts)
{
    /// <summary>What the report says for a silo that is not known.</summary>
    public const string UnknownSilo = "(unknown)";

    private readonly string?[] _siloOf = new string?[carts];
    private readonly long[] _locatedAt = new long[carts];
    private readonly int[] _relocating = new int[carts];
    private long _topologyChangedAt;

    /// <summary>The cart's silo as last located; null when unknown.</summary>
    public string? SiloOf(int cart) => _siloOf[cart];

    /// <summary>The cart's silo as last located, or <see cref="UnknownSilo"/>.</summary>
    public string SiloOrUnknown(int cart) => _siloOf[cart] ?? UnknownSilo;

    /// <summary>Before the run: the cart's silo as <paramref name="locate"/> finds it (asked now).</summary>
    public async Task LocateAsync(int cart, Func<Task<string?>> locate)
    {
        _locatedAt[cart] = Stopwatch.GetTimestamp();
        try
        {
            _siloOf[cart] = await locate();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Unknown for now: its transactions count under "(unknown)" until a call fails and relocates it.
        }
    }

    /// <summary>A nemesis changed the cluster at <paramref name="timestamp"/>: every location asked before is stale.</summary>
    public void TopologyChanged(long timestamp) => Volatile.Write(ref _topologyChangedAt, timestamp);

    /// <summary>True when the cart was located before the last change the nemeses made to the cluster.</summary>
    public bool IsStale(int cart) => Volatile.Read(ref _locatedAt[cart]) < Volatile.Read(ref _topologyChangedAt);

    /// <summary>
    /// Best effort, in the background, one at a time per cart: the cart's current silo. Nothing once
    /// <paramref name="abort"/> is cancelled (the run is over).
    /// </summary>
    public void Relocate(int cart, CancellationToken abort)
    {
        if (abort.IsCancellationRequested || Interlocked.Exchange(ref _relocating[cart], 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            var asked = Stopwatch.GetTimestamp();
            try
            {
                if (await target.LocateCartAsync(LoadWorkload.CartId(cart), abort) is { } silo)
                {
                    _siloOf[cart] = silo;
                    Volatile.Write(ref _locatedAt[cart], asked);
                }
            }
            catch (Exception)
            {
                // Still moving: the next failed call asks again.
            }
            finally
            {
                Volatile.Write(ref _relocating[cart], 0);
            }
        }, CancellationToken.None);
    }
}
