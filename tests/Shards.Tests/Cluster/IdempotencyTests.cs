using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Cluster;

/// <summary>A command re-sent with the same request ID (as the client's retry filter does) is applied once.</summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class IdempotencyTests(PostgresClusterFixture fixture) : IClassFixture<PostgresClusterFixture>
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task A_reserve_resent_with_the_same_request_id_is_applied_once_even_after_deactivation()
    {
        var product = Grains.GetGrain<IProductGrain>("sku-idem-reserve");
        await product.UpsertAsync(new ProductDefinition("Kettle", 30m, 10));
        var requestId = Guid.NewGuid();

        var first = await WithRequestId(requestId, () => product.ReserveAsync(3));
        var retried = await WithRequestId(requestId, () => product.ReserveAsync(3));
        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var retriedAfterReload = await WithRequestId(requestId, () => product.ReserveAsync(3));

        Assert.Equal(7, first.Stock);
        Assert.Equal(first, retried);
        Assert.Equal(first, retriedAfterReload);
        Assert.Equal(4, (await product.ReserveAsync(3)).Stock); // a new command is applied
    }

    [Fact]
    public async Task A_cart_add_resent_with_the_same_request_id_counts_once_and_different_ids_count_each()
    {
        await Grains.GetGrain<IProductGrain>("sku-idem-add").UpsertAsync(new ProductDefinition("Cup", 2m, 100));
        var cart = Grains.GetGrain<ICartGrain>("cart-idem");
        var requestId = Guid.NewGuid();

        await WithRequestId(requestId, () => cart.AddAsync("sku-idem-add", 1));
        await WithRequestId(requestId, () => cart.AddAsync("sku-idem-add", 1));
        await cart.AddAsync("sku-idem-add", 1);
        await cart.AddAsync("sku-idem-add", 1);

        var view = await cart.GetAsync();
        Assert.Equal(3, Assert.Single(view.Lines).Quantity);
        Assert.Equal(3, view.Version);
    }

    [Fact]
    public async Task A_remove_resent_after_it_was_applied_succeeds_instead_of_reporting_a_missing_line()
    {
        await Grains.GetGrain<IProductGrain>("sku-idem-rm").UpsertAsync(new ProductDefinition("Pan", 5m, 10));
        var cart = Grains.GetGrain<ICartGrain>("cart-idem-rm");
        await cart.AddAsync("sku-idem-rm", 2);
        var requestId = Guid.NewGuid();

        await WithRequestId(requestId, () => cart.RemoveAsync("sku-idem-rm"));
        var retried = await WithRequestId(requestId, () => cart.RemoveAsync("sku-idem-rm"));

        Assert.Empty(retried.Lines);
        var again = await Assert.ThrowsAsync<ShardsException>(() => cart.RemoveAsync("sku-idem-rm"));
        Assert.Equal(ShardsErrorCode.NotFound, again.Code);
    }

    private static async Task<T> WithRequestId<T>(Guid requestId, Func<Task<T>> call)
    {
        RequestContext.Set(RequestIds.ContextKey, requestId);
        try
        {
            return await call();
        }
        finally
        {
            RequestContext.Remove(RequestIds.ContextKey);
        }
    }
}
