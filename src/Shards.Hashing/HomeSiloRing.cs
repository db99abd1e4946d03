namespace Shards.Hashing;

/// <summary>
/// The home silo of every key: the same consistent-hash ring that places grain state on shard databases
/// (<see cref="ShardRouter"/>: XXH64, <see cref="ShardRouter.DefaultVirtualNodes"/> points per member), with silos as
/// its members instead of databases. A silo's points sit at <c>XXH64("ENDPOINT#i")</c>, so a key's home depends only
/// on its grain id and the set of live silo endpoints: when a silo joins or leaves, only the keys of the arcs it gains
/// or loses (about 1/N of them) change home, and a silo restarted on the same endpoint gets the same keys back.
/// Pure: no Orleans.
/// </summary>
public sealed class HomeSiloRing
{
    private readonly ShardRouter _ring;

    /// <param name="silos">Stable, unique silo names: the endpoints (<c>ip:port</c>), never anything per process.</param>
    /// <param name="virtualNodes">Points per silo on the ring.</param>
    public HomeSiloRing(IEnumerable<string> silos, int virtualNodes = ShardRouter.DefaultVirtualNodes) =>
        _ring = new ShardRouter(silos, virtualNodes);

    /// <summary>The silo names, in ordinal order.</summary>
    public IReadOnlyList<string> Silos => _ring.Shards;

    /// <summary>The home silo of the grain whose id text (Orleans' <c>type/key</c>) is given.</summary>
    public string HomeOf(string grainId) => _ring.ShardFor(grainId);

    /// <summary>Each silo's exact share of the ring (0-1): the expected fraction of keys whose home it is.</summary>
    public IReadOnlyDictionary<string, double> Shares() => _ring.RingShares();
}
