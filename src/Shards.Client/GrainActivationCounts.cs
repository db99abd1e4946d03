using Orleans.Runtime;

namespace Shards.Client;

/// <summary>Activations of one Shards grain type on one silo.</summary>
public sealed record GrainActivationCount(SiloAddress Silo, string Grain, long Count);

/// <summary>
/// Activations of Shards' grains per silo, from Orleans' own activation counts (the management grain asks each
/// silo's catalog). The silo's <c>shards.grain.activations</c> gauge and <c>shards distribution</c> both read this.
/// </summary>
public static class GrainActivationCounts
{
    /// <summary>
    /// Orleans' grain class names → Shards' short grain type names (the [GrainType] of each grain). Names, not types:
    /// a client does not reference the grains (tests check that these are the grain classes' full names).
    /// </summary>
    internal static readonly (string ClassName, string Grain)[] Grains =
    [
        ("Shards.Grains.Catalog.ProductGrain", "product"),
        ("Shards.Grains.Carts.CartGrain", "cart"),
        ("Shards.Grains.Benchmarks.PingGrain", "ping"),
    ];

    /// <summary>The counts on <paramref name="silos"/> (all active silos when null), one entry per silo and grain type.</summary>
    public static async Task<IReadOnlyList<GrainActivationCount>> ReadAsync(IGrainFactory grains, SiloAddress[]? silos = null)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var statistics = silos is null ? await management.GetSimpleGrainStatistics() : await management.GetSimpleGrainStatistics(silos);
        return statistics
            .Select(s => (s.SiloAddress, Grain: ShortName(s.GrainType), s.ActivationCount))
            .Where(s => s.Grain is not null)
            .GroupBy(s => (s.SiloAddress, s.Grain))
            .Select(g => new GrainActivationCount(g.Key.SiloAddress, g.Key.Grain!, g.Sum(s => (long)s.ActivationCount)))
            .ToList();
    }

    private static string? ShortName(string grainClass) =>
        Grains.FirstOrDefault(g => grainClass.StartsWith(g.ClassName, StringComparison.Ordinal)).Grain;
}
