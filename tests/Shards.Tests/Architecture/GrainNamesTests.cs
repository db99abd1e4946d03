using Shards.Client;
using Shards.Grains.Benchmarks;
using Shards.Grains.Carts;
using Shards.Grains.Catalog;

namespace Shards.Tests.Architecture;

/// <summary>
/// The client library names the grain classes whose activations it counts by text, since it must not reference the
/// grains: these names must stay the classes' real names.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class GrainNamesTests
{
    [Fact]
    public void The_client_counts_activations_of_the_real_grain_classes()
    {
        Assert.Equal(
            [typeof(ProductGrain).FullName, typeof(CartGrain).FullName, typeof(PingGrain).FullName],
            GrainActivationCounts.Grains.Select(g => g.ClassName));
    }
}
