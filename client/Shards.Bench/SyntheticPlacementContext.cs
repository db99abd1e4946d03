using System.Net;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Shards.Bench;

/// <summary>
/// A placement context with a fixed set of active, compatible silos and no live cluster: what Orleans hands a
/// director when it places a grain, minus everything else. It lets the placement bench drive the real directors
/// (Shards' and Orleans' own) on 100,000 keys in a second, and shows exactly what they were given.
/// </summary>
public sealed class SyntheticPlacementContext(IReadOnlyList<SiloAddress> silos) : IPlacementContext
{
    private static readonly Dictionary<string, object> NoRequestContext = [];
    private readonly SiloAddress[] _silos = [.. silos];

    public SiloAddress LocalSilo => _silos[0];

    public SiloStatus LocalSiloStatus => SiloStatus.Active;

    public SiloAddress[] GetCompatibleSilos(PlacementTarget target) => _silos;

    public IReadOnlyDictionary<ushort, SiloAddress[]> GetCompatibleSilosWithVersions(PlacementTarget target) =>
        new Dictionary<ushort, SiloAddress[]> { [0] = _silos };

    /// <summary><paramref name="count"/> silos on 127.0.0.1 from port <paramref name="firstPort"/> up, as a local cluster has them.</summary>
    public static IReadOnlyList<SiloAddress> LoopbackSilos(int count, int firstPort = 11111, int generation = 1) =>
        [.. Enumerable.Range(0, count).Select(i => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, firstPort + i), generation))];

    /// <summary>Where <paramref name="director"/> places <paramref name="grain"/> among these silos.</summary>
    public Task<SiloAddress> PlaceAsync(IPlacementDirector director, PlacementStrategy strategy, GrainId grain) =>
        director.OnAddActivation(strategy, new PlacementTarget(grain, NoRequestContext, default, 0), this);
}
