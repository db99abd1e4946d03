using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using Shards.Placement;

namespace Shards.Bench;

/// <summary>
/// Placement spread and churn: <see cref="BenchOptions.PlacementKeys"/> product keys placed by each director with 3
/// silos and again with a 4th silo, through <see cref="SyntheticPlacementContext"/>. Shards' director is used as the
/// silo registers it; Orleans' own directors are taken from a silo's service provider (built, never started), keyed
/// by their strategy exactly as Orleans' placement service resolves them, so they are Orleans' real code.
/// Resource-optimised placement is not in the table: its choice follows live CPU and memory statistics that silos
/// publish to each other; with none (as here) it picks at random.
/// </summary>
public static class PlacementSuite
{
    public const int SilosBefore = 3;

    public static async Task<IReadOnlyList<PlacementRow>> RunAsync(int keys, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo => silo.UseLocalhostClustering());
        using var orleans = builder.Build();
        (string Name, PlacementStrategy Strategy, IPlacementDirector Director)[] strategies =
        [
            ("consistent hash (Shards)", new ConsistentHashPlacement(), new ConsistentHashPlacementDirector()),
            ("hash-based (Orleans)", new HashBasedPlacement(), OrleansDirector<HashBasedPlacement>(orleans.Services)),
            ("random (Orleans)", new RandomPlacement(), OrleansDirector<RandomPlacement>(orleans.Services)),
        ];

        var grains = Enumerable.Range(1, keys).Select(i => GrainId.Create("product", $"sku-{i:D6}")).ToArray();
        var before = new SyntheticPlacementContext(SyntheticPlacementContext.LoopbackSilos(SilosBefore));
        var afterSilos = SyntheticPlacementContext.LoopbackSilos(SilosBefore + 1);
        var after = new SyntheticPlacementContext(afterSilos);
        var joined = afterSilos[^1];
        var rows = new List<PlacementRow>();
        foreach (var (name, strategy, director) in strategies)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // All keys with 3 silos, then all with 4: a director sees one silo set at a time, as in a cluster.
            var from = new SiloAddress[grains.Length];
            for (var i = 0; i < grains.Length; i++)
            {
                from[i] = await before.PlaceAsync(director, strategy, grains[i]);
            }

            var perSiloBefore = from.CountBy(s => s).ToDictionary();
            var perSiloAfter = new Dictionary<SiloAddress, int>();
            int moved = 0, movedToNew = 0;
            for (var i = 0; i < grains.Length; i++)
            {
                var to = await after.PlaceAsync(director, strategy, grains[i]);
                perSiloAfter[to] = perSiloAfter.GetValueOrDefault(to) + 1;
                if (!from[i].Equals(to))
                {
                    moved++;
                    movedToNew += to.Equals(joined) ? 1 : 0;
                }
            }

            rows.Add(new PlacementRow(
                name, keys,
                Spread(perSiloBefore, SilosBefore, keys), perSiloBefore.Values.DefaultIfEmpty(0).Min() * SilosBefore / (double)keys,
                Spread(perSiloAfter, SilosBefore + 1, keys),
                moved / (double)keys, moved == 0 ? 0 : movedToNew / (double)moved));
        }

        return rows;
    }

    /// <summary>max / mean keys per silo (1.0 is perfectly even).</summary>
    private static double Spread(Dictionary<SiloAddress, int> perSilo, int silos, int keys) =>
        perSilo.Values.DefaultIfEmpty(0).Max() / (keys / (double)silos);

    private static IPlacementDirector OrleansDirector<TStrategy>(IServiceProvider services)
        where TStrategy : PlacementStrategy => services.GetRequiredKeyedService<IPlacementDirector>(typeof(TStrategy));
}
