using Orleans.Configuration;
using Shards.Bench;

namespace Shards.Tests.Bench;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class ScalingMemoryTests
{
    [Fact]
    public void Bytes_per_activation_is_the_rss_growth_over_the_activations()
    {
        // 100 MB idle, 110 MB after 2,048 activations: 10 MiB / 2,048 = 5,120 bytes each.
        Assert.Equal(5120, ScalingMemory.BytesPerActivation(100, 110, 2048)!.Value, 6);
        Assert.Null(ScalingMemory.BytesPerActivation(100, 110, 0));
    }

    [Fact]
    public void Bytes_per_activation_over_silos_sums_growth_and_activations_rather_than_averaging_silos()
    {
        ScalingSilo[] silos =
        [
            new("silo-1", 1024, 100, 101, null), // 1 MiB over 1,024 activations
            new("silo-2", 3072, 100, 109, null), // 9 MiB over 3,072
        ];

        // 10 MiB over 4,096 activations = 2,560 bytes, not the mean of 1,024 and 3,072 (2,048).
        Assert.Equal(2560, ScalingMemory.BytesPerActivation(silos)!.Value, 6);
    }

    [Fact]
    public void A_heap_smaller_than_at_start_gives_a_negative_figure_that_is_not_hidden()
    {
        Assert.True(ScalingMemory.BytesPerActivation(120, 110, 1000) < 0);
    }

    [Theory]
    [InlineData(0, 1000, 20_000, 4096, null, 1000)]             // nothing measured yet: the whole step
    [InlineData(100_000, 1_000_000, 30_000, 4096, 0.015625, 1_000_000)] // 900k keys * 1.5 * 1/64 MB = 21 GB fit in 25.9 GB
    [InlineData(100_000, 1_000_000, 10_000, 4096, 0.015625, 351_904)]   // 5,904 MB / (1.5 / 64 MB) = 251,904 more keys
    [InlineData(100_000, 1_000_000, 3_000, 4096, 0.015625, 100_000)]    // already below the reserve: no more keys
    public void Keys_that_fit_stop_short_of_the_memory_reserve(int active, int target, double availableMb, int reserveMb, double? mbPerKey, int expected)
    {
        Assert.Equal(expected, ScalingMemory.KeysThatFit(active, target, availableMb, reserveMb, mbPerKey));
    }

    [Fact]
    public void The_full_scaling_run_of_one_cluster_ends_long_before_idle_grains_could_be_collected()
    {
        var options = BenchOptions.Full("unused");
        var collection = new GrainCollectionOptions();
        // Worst case for one cluster: the whole activation budget, then every step's measured reads with warm-ups.
        var readsPerStep = options.ScalingDuration * ScalingSuite.Workloads.Count + options.Warmup * (options.Rounds * ScalingSuite.Workloads.Count + 4);
        var longest = options.ScalingActivationBudget + readsPerStep * options.ScalingKeySpaces.Count;

        Assert.True(longest * 2 < collection.CollectionAge, $"{longest} of activity vs a collection age of {collection.CollectionAge}");
        Assert.False(collection.EnableActivationSheddingOnMemoryPressure);
    }

    [Fact]
    public void The_key_space_steps_grow_and_the_quick_run_stays_small()
    {
        var full = BenchOptions.Full("unused");
        var quick = BenchOptions.QuickRun("unused");

        Assert.Equal([1000, 10_000, 100_000, 1_000_000], full.ScalingKeySpaces);
        Assert.Equal([1, 2, 3], full.ScalingSiloCounts);
        Assert.Equal([1000, 10_000], quick.ScalingKeySpaces);
        Assert.Equal([1], quick.ScalingSiloCounts);
        Assert.Equal("scale-0000042", ScalingSuite.Key(42));
    }
}
