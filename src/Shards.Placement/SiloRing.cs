using Orleans.Runtime;
using Shards.Hashing;

namespace Shards.Placement;

/// <summary>
/// <see cref="HomeSiloRing"/> over a set of Orleans silos. A silo is named on the ring by its endpoint (<c>ip:port</c>),
/// not by its generation, so a silo restarted on the same endpoint is home to the same keys again. If two entries
/// share an endpoint (an old incarnation not yet declared dead), the newest generation stands for it.
/// </summary>
public sealed class SiloRing
{
    private readonly HomeSiloRing _ring;
    private readonly Dictionary<string, SiloAddress> _byName;
    private readonly HashSet<SiloAddress> _members;

    public SiloRing(IEnumerable<SiloAddress> silos)
    {
        ArgumentNullException.ThrowIfNull(silos);
        _byName = silos
            .GroupBy(NameOf, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.MaxBy(s => s.Generation)!, StringComparer.Ordinal);
        if (_byName.Count == 0)
        {
            throw new SiloUnavailableException("No compatible silo is active: a grain with consistent-hash placement has no home.");
        }

        _ring = new HomeSiloRing(_byName.Keys);
        _members = [.. _byName.Values];
    }

    /// <summary>The silos on the ring (one per endpoint).</summary>
    public IReadOnlyCollection<SiloAddress> Members => _members;

    /// <summary>The home silo of <paramref name="grain"/>.</summary>
    public SiloAddress HomeOf(GrainId grain) => _byName[_ring.HomeOf(grain.ToString())];

    /// <summary>True when this ring was built from exactly <paramref name="silos"/>.</summary>
    public bool IsOver(IReadOnlyCollection<SiloAddress> silos) =>
        silos.Count == _members.Count && silos.All(_members.Contains);

    /// <summary>A silo's name on the ring: its endpoint, e.g. <c>127.0.0.1:11111</c>.</summary>
    public static string NameOf(SiloAddress silo) => silo.Endpoint.ToString();
}
