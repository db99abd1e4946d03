using Orleans.Runtime;
using Shards.Api.Endpoints;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;

namespace Shards.Tests.Grains;

/// <summary><see cref="GrainKeys.ByKey"/>: the API's cached grain references are the ones Orleans' GetGrain makes, and work.</summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(ShardsClusterCollection.Name)]
public sealed class GrainKeysTests(ShardsClusterFixture fixture)
{
    [Fact]
    public async Task A_reference_by_key_is_the_one_GetGrain_makes_before_and_after_the_types_are_known()
    {
        var grains = fixture.Client;
        var first = Keys.New("sku");
        var second = Keys.New("sku");

        var learned = grains.ByKey<IProductGrain>(first); // the first call may learn the types
        var cached = grains.ByKey<IProductGrain>(second);
        var cart = grains.ByKey<ICartGrain>(Keys.New("cart"));

        Assert.Equal(grains.GetGrain<IProductGrain>(first).GetGrainId(), learned.GetGrainId());
        Assert.Equal(grains.GetGrain<IProductGrain>(second).GetGrainId(), cached.GetGrainId());
        Assert.Equal(((GrainReference)grains.GetGrain<IProductGrain>(second)).InterfaceType, ((GrainReference)cached).InterfaceType);
        Assert.Equal(grains.GetGrain<ICartGrain>(cart.GetPrimaryKeyString()).GetGrainId(), cart.GetGrainId());
        var created = await cached.UpsertAsync(new ProductDefinition("Widget", 2m, 5));
        Assert.Equal(created, await grains.GetGrain<IProductGrain>(second).GetAsync());
    }
}
