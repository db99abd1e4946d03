using Shards.Grains.Common;
using Orleans.Runtime;
using Shards.Contracts;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Grains.Catalog;

namespace Shards.Tests.Grains;

[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(FaultyStorageClusterCollection.Name)]
public sealed class StorageFailureTests(FaultyStorageClusterFixture fixture)
{
    private IProductGrain Product(string sku) => fixture.Client.GetGrain<IProductGrain>(sku);

    [Fact]
    public async Task A_failed_product_write_is_storage_unavailable_with_an_unknown_outcome_and_serves_the_acknowledged_state()
    {
        var sku = Keys.New("sku");
        var storage = fixture.Storage(StorageNames.Catalog);
        var before = await Product(sku).UpsertAsync(new ProductDefinition("Widget", 1m, 10));
        storage.FailWritesFor(Product(sku).GetGrainId());

        var upsert = await Assert.ThrowsAsync<ShardsException>(() => Product(sku).UpsertAsync(new ProductDefinition("Gadget", 2m, 20)));
        var reserve = await Assert.ThrowsAsync<ShardsException>(() => Product(sku).ReserveAsync(3));

        Assert.Equal(ShardsErrorCode.StorageUnavailable, upsert.Code);
        Assert.Equal(ShardsErrorCode.StorageUnavailable, reserve.Code);
        Assert.Contains("outcome is unknown", upsert.Message, StringComparison.Ordinal);
        Assert.Contains("same request ID", upsert.Message, StringComparison.Ordinal);
        Assert.Equal(before, await Product(sku).GetAsync());

        storage.Heal(Product(sku).GetGrainId());
        Assert.Equal(new ProductSnapshot(sku, "Widget", 1m, 7, 2, Reserved: 3, ReservedOutsideOrders: 3), await Product(sku).ReserveAsync(3));
    }

    [Fact]
    public async Task After_a_failed_write_a_new_activation_reads_the_last_acknowledged_state()
    {
        var sku = Keys.New("sku");
        var storage = fixture.Storage(StorageNames.Catalog);
        var before = await Product(sku).UpsertAsync(new ProductDefinition("Widget", 1m, 10));
        storage.FailWritesFor(Product(sku).GetGrainId());
        await Assert.ThrowsAsync<ShardsException>(() => Product(sku).ReserveAsync(3));
        storage.Heal(Product(sku).GetGrainId());

        await fixture.Cluster.DeactivateAsync(Product(sku));

        Assert.Equal(before, await Product(sku).GetAsync());
    }

    [Fact]
    public async Task A_failed_cart_write_is_storage_unavailable_and_changes_nothing()
    {
        var sku = Keys.New("sku");
        await Product(sku).UpsertAsync(new ProductDefinition("Widget", 2m, 10));
        var cart = fixture.Client.GetGrain<ICartGrain>(Keys.New("cart"));
        var before = await cart.AddAsync(sku, 1);
        fixture.Storage(StorageNames.Carts).FailWritesFor(cart.GetGrainId());

        var error = await Assert.ThrowsAsync<ShardsException>(() => cart.AddAsync(sku, 2));
        var clear = await Assert.ThrowsAsync<ShardsException>(() => cart.ClearAsync());

        Assert.Equal(ShardsErrorCode.StorageUnavailable, error.Code);
        Assert.Equal(ShardsErrorCode.StorageUnavailable, clear.Code);
        var after = await cart.GetAsync();
        Assert.Equal(before.Lines, after.Lines);
        Assert.Equal((2m, 1L), (after.Total, after.Version));
    }

    [Fact]
    public async Task A_concurrent_writer_is_never_reported_as_a_conflict_the_grain_reloads_and_applies_the_command_to_what_was_stored()
    {
        var sku = Keys.New("sku");
        var grainId = Product(sku).GetGrainId();
        await Product(sku).UpsertAsync(new ProductDefinition("Widget", 1m, 10));
        await WriteBehindTheGrainAsync(grainId, new ProductState { Name = "Elsewhere", Price = 9m, Stock = 99, Version = 2 });

        Assert.Equal(new ProductSnapshot(sku, "Elsewhere", 9m, 98, 3, Reserved: 1, ReservedOutsideOrders: 1), await Product(sku).ReserveAsync(1));
        Assert.Equal(new ProductSnapshot(sku, "Elsewhere", 9m, 98, 3, Reserved: 1, ReservedOutsideOrders: 1), await Product(sku).GetAsync());
    }

    /// <summary>Plays another writer (e.g. a stale activation elsewhere) that stores a newer state with its own etag.</summary>
    private async Task WriteBehindTheGrainAsync(GrainId grainId, ProductState state)
    {
        var inner = fixture.Storage(StorageNames.Catalog).Inner;
        var stored = new GrainState<ProductState>();
        await inner.ReadStateAsync(StateNames.Product, grainId, stored);
        Assert.True(stored.RecordExists);
        stored.State = state;
        await inner.WriteStateAsync(StateNames.Product, grainId, stored);
    }
}
