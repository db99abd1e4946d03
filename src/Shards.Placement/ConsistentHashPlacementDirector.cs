using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Shards.Placement;

/// <summary>
/// The director of <see cref="ConsistentHashPlacement"/>: a new activation goes to its key's home silo on the ring of
/// the compatible silos the placement context offers (the live silos that can host the grain type). Placement hints
/// are ignored on purpose: the home is the point. The ring is rebuilt only when the set of silos changes.
/// </summary>
public sealed class ConsistentHashPlacementDirector : IPlacementDirector
{
    private SiloRing? _ring;

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(HomeOf(target.GrainIdentity, context.GetCompatibleSilos(target)));
    }

    /// <summary>The home of <paramref name="grain"/> among <paramref name="silos"/>.</summary>
    public SiloAddress HomeOf(GrainId grain, IReadOnlyCollection<SiloAddress> silos)
    {
        var ring = _ring;
        if (ring is null || !ring.IsOver(silos))
        {
            // Placement runs concurrently: each caller may build a ring; any of them is correct, the last one stays.
            ring = new SiloRing(silos);
            _ring = ring;
        }

        return ring.HomeOf(grain);
    }
}
