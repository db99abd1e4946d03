using System.Collections.Immutable;
using Orleans.Metadata;
using Orleans.Runtime;
using Shards.Bench;
using Shards.Hashing;
using Shards.Placement;

namespace Shards.Tests.Placement;

/// <summary>
/// Shards' consistent-hash placement director, driven through a placement context as Orleans drives it: every key has
/// one home, the same in every process and for any silo order; a 4th silo takes about a quarter of the keys and only
/// from the others; the spread stays within a few percent of even.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ConsistentHashPlacementDirectorTests
{
    private static readonly ConsistentHashPlacement Strategy = new();

    private static GrainId Product(int i) => GrainId.Create("product", $"sku-{i:D6}");

    private static async Task<SiloAddress[]> PlaceAllAsync(IReadOnlyList<SiloAddress> silos, int keys, ConsistentHashPlacementDirector? director = null)
    {
        director ??= new ConsistentHashPlacementDirector();
        var context = new SyntheticPlacementContext(silos);
        var homes = new SiloAddress[keys];
        for (var i = 0; i < keys; i++)
        {
            homes[i] = await context.PlaceAsync(director, Strategy, Product(i));
        }

        return homes;
    }

    [Fact]
    public async Task Every_key_has_the_same_home_for_any_director_instance_and_silo_order()
    {
        var silos = SyntheticPlacementContext.LoopbackSilos(3);
        var first = await PlaceAllAsync(silos, 2000);
        var again = await PlaceAllAsync([silos[2], silos[0], silos[1]], 2000, new ConsistentHashPlacementDirector());

        Assert.Equal(first, again);
        Assert.Equal(3, first.Distinct().Count());
    }

    [Fact]
    public async Task The_home_is_the_ring_of_silo_endpoints_so_it_is_known_outside_the_cluster()
    {
        var silos = SyntheticPlacementContext.LoopbackSilos(3);
        var homes = await PlaceAllAsync(silos, 500);
        var ring = new HomeSiloRing(silos.Select(s => s.Endpoint.ToString()));

        for (var i = 0; i < homes.Length; i++)
        {
            Assert.Equal(ring.HomeOf(Product(i).ToString()), homes[i].Endpoint.ToString());
        }

        // Pinned: a change here moves live grains to other silos on upgrade (XXH64 ring, 512 points per silo).
        Assert.Equal("127.0.0.1:11112", ring.HomeOf("product/sku-000001"));
        Assert.Equal("127.0.0.1:11113", ring.HomeOf("cart/cart-00042"));
    }

    [Fact]
    public async Task A_silo_restarted_on_the_same_endpoint_is_home_to_the_same_keys()
    {
        var before = await PlaceAllAsync(SyntheticPlacementContext.LoopbackSilos(3, generation: 1), 2000);
        var restarted = SyntheticPlacementContext.LoopbackSilos(3, generation: 1).ToArray();
        restarted[1] = SiloAddress.New(restarted[1].Endpoint, 2);

        var after = await PlaceAllAsync(restarted, 2000);

        Assert.Equal(before.Select(s => s.Endpoint), after.Select(s => s.Endpoint));
        Assert.Contains(after, s => s.Equals(restarted[1]));
    }

    [Fact]
    public async Task A_fourth_silo_takes_about_a_quarter_of_the_keys_and_only_keys_move_to_it()
    {
        const int keys = 20_000;
        var four = SyntheticPlacementContext.LoopbackSilos(4);
        var before = await PlaceAllAsync(four.Take(3).ToList(), keys);
        var after = await PlaceAllAsync(four, keys);

        var moved = Enumerable.Range(0, keys).Where(i => !before[i].Equals(after[i])).ToList();
        Assert.InRange(moved.Count / (double)keys, 0.20, 0.30);
        Assert.All(moved, i => Assert.Equal(four[3], after[i]));
    }

    [Fact]
    public async Task When_a_silo_leaves_only_its_own_keys_move()
    {
        const int keys = 20_000;
        var three = SyntheticPlacementContext.LoopbackSilos(3);
        var before = await PlaceAllAsync(three, keys);
        var after = await PlaceAllAsync([three[0], three[2]], keys);

        for (var i = 0; i < keys; i++)
        {
            if (!before[i].Equals(three[1]))
            {
                Assert.Equal(before[i], after[i]);
            }
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    public async Task Keys_spread_within_ten_percent_of_even(int silos)
    {
        const int keys = 40_000;
        var homes = await PlaceAllAsync(SyntheticPlacementContext.LoopbackSilos(silos), keys);
        var mean = keys / (double)silos;

        var counts = homes.CountBy(s => s).Select(c => c.Value).ToList();
        Assert.Equal(silos, counts.Count);
        Assert.InRange(counts.Max() / mean, 1.0, 1.10);
        Assert.InRange(counts.Min() / mean, 0.90, 1.0);
    }

    [Fact]
    public async Task No_compatible_silo_is_a_clear_error()
    {
        var context = new SyntheticPlacementContext([]);

        var error = await Assert.ThrowsAsync<SiloUnavailableException>(() => context.PlaceAsync(new ConsistentHashPlacementDirector(), Strategy, Product(1)));
        Assert.Contains("No compatible silo", error.Message);
    }

    [Fact]
    public void Only_grain_types_placed_by_consistent_hash_are_tracked_for_rebalancing()
    {
        var tracker = new HomeActivations();
        var placed = new GrainProperties(new Dictionary<string, string> { [WellKnownGrainTypeProperties.PlacementStrategy] = nameof(ConsistentHashPlacement) }.ToImmutableDictionary(StringComparer.Ordinal));
        var other = new GrainProperties(new Dictionary<string, string> { [WellKnownGrainTypeProperties.PlacementStrategy] = "HashBasedPlacement" }.ToImmutableDictionary(StringComparer.Ordinal));

        Assert.True(tracker.TryGetConfigurator(GrainType.Create("product"), placed, out _));
        Assert.False(tracker.TryGetConfigurator(GrainType.Create("ping"), other, out _));
    }

    [Fact]
    public void The_store_grains_use_consistent_hash_placement()
    {
        Assert.All(
            new[] { typeof(Shards.Grains.Catalog.ProductGrain), typeof(Shards.Grains.Carts.CartGrain) },
            grain => Assert.NotNull(grain.GetCustomAttributes(typeof(ConsistentHashPlacementAttribute), false).SingleOrDefault()));
    }

    [Fact]
    public async Task The_placement_bench_compares_the_real_directors_on_the_same_keys()
    {
        var rows = await PlacementSuite.RunAsync(20_000, CancellationToken.None);

        var ring = Assert.Single(rows, r => r.Strategy.StartsWith("consistent hash", StringComparison.Ordinal));
        var hashBased = Assert.Single(rows, r => r.Strategy.StartsWith("hash-based", StringComparison.Ordinal));
        Assert.Single(rows, r => r.Strategy.StartsWith("random", StringComparison.Ordinal));
        Assert.InRange(ring.MovedOnJoin, 0.20, 0.30);
        Assert.Equal(1.0, ring.MovedToNewSilo);
        Assert.InRange(ring.SpreadWith3, 1.0, 1.10);
        Assert.True(hashBased.MovedOnJoin > 0.5, $"Orleans' hash-based placement moved {hashBased.MovedOnJoin:P1} (modulo over the silo count)");
        Assert.All(rows, r => Assert.Equal(20_000, r.Keys));
    }
}
