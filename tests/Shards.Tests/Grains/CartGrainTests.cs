using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;

namespace Shards.Tests.Grains;

[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(ShardsClusterCollection.Name)]
public sealed class CartGrainTests(ShardsClusterFixture fixture)
{
    private ICartGrain Cart(string cartId) => fixture.Client.GetGrain<ICartGrain>(cartId);

    private IProductGrain Product(string sku) => fixture.Client.GetGrain<IProductGrain>(sku);

    private async Task<string> NewProductAsync(decimal price, int stock = 100)
    {
        var sku = Keys.New("sku");
        await Product(sku).UpsertAsync(new ProductDefinition("Widget", price, stock));
        return sku;
    }

    [Fact]
    public async Task A_cart_never_written_is_empty_at_version_0()
    {
        var cartId = Keys.New("cart");

        var view = await Cart(cartId).GetAsync();

        Assert.Equal((cartId, 0m, 0L), (view.CartId, view.Total, view.Version));
        Assert.Empty(view.Lines);
    }

    [Fact]
    public async Task Add_prices_lines_from_the_catalog_and_totals_them()
    {
        var cartId = Keys.New("cart");
        var cheap = await NewProductAsync(2.50m);
        var dear = await NewProductAsync(10m);

        await Cart(cartId).AddAsync(cheap, 3);
        var view = await Cart(cartId).AddAsync(dear, 2);

        Assert.Equal([new CartLineView(cheap, 3, 2.50m, 7.50m), new CartLineView(dear, 2, 10m, 20m)], view.Lines);
        Assert.Equal((27.50m, 2L), (view.Total, view.Version));
        Assert.Equal(view.Lines, (await Cart(cartId).GetAsync()).Lines);
    }

    [Fact]
    public async Task Adding_to_an_existing_line_adds_up_and_takes_the_current_price()
    {
        var cartId = Keys.New("cart");
        var sku = await NewProductAsync(2m);
        await Cart(cartId).AddAsync(sku, 1);
        await Product(sku).UpsertAsync(new ProductDefinition("Widget", 3m, 100));

        var view = await Cart(cartId).AddAsync(sku, 2);

        Assert.Equal(new CartLineView(sku, 3, 3m, 9m), Assert.Single(view.Lines));
    }

    [Fact]
    public async Task Add_of_an_unknown_product_is_not_found_and_changes_nothing()
    {
        var cartId = Keys.New("cart");
        var before = await Cart(cartId).AddAsync(await NewProductAsync(1m), 1);

        var error = await Assert.ThrowsAsync<ShardsException>(() => Cart(cartId).AddAsync(Keys.New("missing"), 1));

        Assert.Equal(ShardsErrorCode.NotFound, error.Code);
        AssertSameCart(before, await Cart(cartId).GetAsync());
    }

    [Theory]
    [InlineData("bad sku", 1)]
    [InlineData("", 1)]
    [InlineData("ok-sku", 0)]
    [InlineData("ok-sku", -1)]
    [InlineData("ok-sku", 10_001)]
    public async Task Add_with_bad_input_is_a_validation_error_and_changes_nothing(string sku, int quantity)
    {
        var cartId = Keys.New("cart");
        var before = await Cart(cartId).AddAsync(await NewProductAsync(1m), 1);

        var error = await Assert.ThrowsAsync<ShardsException>(() => Cart(cartId).AddAsync(sku, quantity));

        Assert.Equal(ShardsErrorCode.Validation, error.Code);
        AssertSameCart(before, await Cart(cartId).GetAsync());
    }

    [Fact]
    public async Task A_malformed_cart_id_is_a_validation_error_on_every_call()
    {
        var cart = Cart("not a cart id");
        var sku = await NewProductAsync(1m);

        Assert.Equal(ShardsErrorCode.Validation, (await Assert.ThrowsAsync<ShardsException>(() => cart.GetAsync())).Code);
        Assert.Equal(ShardsErrorCode.Validation, (await Assert.ThrowsAsync<ShardsException>(() => cart.AddAsync(sku, 1))).Code);
        Assert.Equal(ShardsErrorCode.Validation, (await Assert.ThrowsAsync<ShardsException>(() => cart.ClearAsync())).Code);
        Assert.Equal(ShardsErrorCode.Validation, (await Assert.ThrowsAsync<ShardsException>(() => cart.WhereAsync())).Code);
    }

    [Fact]
    public async Task SetQuantity_rereads_the_current_price()
    {
        var cartId = Keys.New("cart");
        var sku = await NewProductAsync(2m);
        await Cart(cartId).AddAsync(sku, 1);
        await Product(sku).UpsertAsync(new ProductDefinition("Widget", 4.25m, 100));

        var view = await Cart(cartId).SetQuantityAsync(sku, 4);

        Assert.Equal(new CartLineView(sku, 4, 4.25m, 17m), Assert.Single(view.Lines));
        Assert.Equal(17m, view.Total);
    }

    [Fact]
    public async Task SetQuantity_zero_removes_the_line()
    {
        var cartId = Keys.New("cart");
        var keep = await NewProductAsync(1m);
        var drop = await NewProductAsync(2m);
        await Cart(cartId).AddAsync(keep, 1);
        await Cart(cartId).AddAsync(drop, 1);

        var view = await Cart(cartId).SetQuantityAsync(drop, 0);

        Assert.Equal(keep, Assert.Single(view.Lines).Sku);
        Assert.Equal(3, view.Version);
    }

    [Fact]
    public async Task SetQuantity_negative_is_a_validation_error_and_changes_nothing()
    {
        var cartId = Keys.New("cart");
        var sku = await NewProductAsync(1m);
        var before = await Cart(cartId).AddAsync(sku, 2);

        var error = await Assert.ThrowsAsync<ShardsException>(() => Cart(cartId).SetQuantityAsync(sku, -1));

        Assert.Equal(ShardsErrorCode.Validation, error.Code);
        AssertSameCart(before, await Cart(cartId).GetAsync());
    }

    [Fact]
    public async Task Remove_deletes_a_line_and_a_missing_line_is_not_found()
    {
        var cartId = Keys.New("cart");
        var sku = await NewProductAsync(1m);
        await Cart(cartId).AddAsync(sku, 2);

        var view = await Cart(cartId).RemoveAsync(sku);
        var error = await Assert.ThrowsAsync<ShardsException>(() => Cart(cartId).RemoveAsync(sku));

        Assert.Empty(view.Lines);
        Assert.Equal(ShardsErrorCode.NotFound, error.Code);
        Assert.Equal(2, (await Cart(cartId).GetAsync()).Version);
    }

    [Fact]
    public async Task Clear_empties_the_cart_and_clearing_an_empty_cart_is_not_a_write()
    {
        var cartId = Keys.New("cart");
        await Cart(cartId).AddAsync(await NewProductAsync(1m), 2);

        var cleared = await Cart(cartId).ClearAsync();
        var again = await Cart(cartId).ClearAsync();

        Assert.Empty(cleared.Lines);
        Assert.Equal((0m, 2L), (cleared.Total, cleared.Version));
        Assert.Equal(2, again.Version);
    }

    [Fact]
    public async Task Adding_to_a_cart_does_not_reserve_stock()
    {
        var sku = await NewProductAsync(1m, stock: 5);

        await Cart(Keys.New("cart")).AddAsync(sku, 5);
        await Cart(Keys.New("cart")).AddAsync(sku, 5);

        Assert.Equal(5, (await Product(sku).GetAsync())!.Stock);
    }

    [Fact]
    public async Task Where_reports_the_cart_grain_id()
    {
        var cartId = Keys.New("cart");

        var location = await Cart(cartId).WhereAsync();

        Assert.Equal($"cart/{cartId}", location.GrainId);
        Assert.Contains(location.SiloName, fixture.Cluster.Silos.Select(silo => silo.Name));
    }

    private static void AssertSameCart(CartView expected, CartView actual)
    {
        Assert.Equal((expected.CartId, expected.Total, expected.Version), (actual.CartId, actual.Total, actual.Version));
        Assert.Equal(expected.Lines, actual.Lines);
    }
}
