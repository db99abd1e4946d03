using Shards.Domain;
using Shards.Domain.Catalog;

namespace Shards.Tests.Domain;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class ProductTests
{
    private static Product Widget(int stock = 10) => Product.Create("sku-1", "Widget", 19.99m, stock);

    [Fact]
    public void Create_keeps_every_field()
    {
        var product = Product.Create("sku-1", "Widget", 19.99m, 10);

        Assert.Equal(("sku-1", "Widget", 19.99m, 10), (product.Sku, product.Name, product.Price, product.Stock));
    }

    [Fact]
    public void Create_accepts_the_bounds()
    {
        var product = Product.Create("sku-1", new string('n', Product.MaxNameLength), Prices.MaxPrice, Product.MaxStock);

        Assert.Equal(Prices.MaxPrice, product.Price);
        Assert.Equal(Product.MaxStock, product.Stock);
        Assert.Equal(0m, Product.Create("sku-1", "Free", 0m, 0).Price);
    }

    [Theory]
    [InlineData("bad sku", "Widget", 1, 1, "SKU")]
    [InlineData("sku-1", "", 1, 1, "name")]
    [InlineData("sku-1", "   ", 1, 1, "name")]
    [InlineData("sku-1", "tab\there", 1, 1, "control characters")]
    [InlineData("sku-1", "Widget", -0.01, 1, "negative")]
    [InlineData("sku-1", "Widget", 1000000.01, 1, "at most")]
    [InlineData("sku-1", "Widget", 1.999, 1, "2 decimal places")]
    [InlineData("sku-1", "Widget", 1, -1, "negative")]
    [InlineData("sku-1", "Widget", 1, 1_000_000_001, "at most")]
    [InlineData("sku-1", "Widget", 1, int.MaxValue, "at most")]
    [InlineData("sku-1", "Widget", 1, int.MinValue, "negative")]
    public void Create_rejects_input_that_breaks_a_rule(string sku, string name, double price, int stock, string expected)
    {
        var error = Assert.Throws<DomainRuleException>(() => Product.Create(sku, name, (decimal)price, stock));

        Assert.Equal(DomainRuleKind.Validation, error.Kind);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_longer_than_200_characters_is_rejected()
    {
        var error = Assert.Throws<DomainRuleException>(() => Product.Create("sku-1", new string('n', 201), 1m, 1));

        Assert.Contains("201 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decimal_extremes_are_rejected_without_overflow()
    {
        Assert.Throws<DomainRuleException>(() => Product.Create("sku-1", "Widget", decimal.MaxValue, 1));
        Assert.Throws<DomainRuleException>(() => Product.Create("sku-1", "Widget", decimal.MinValue, 1));
        Assert.Throws<DomainRuleException>(() => Product.Create("sku-1", "Widget", 0.0000000001m, 1));
    }

    [Fact]
    public void A_price_with_trailing_zeros_is_two_decimal_places()
    {
        Assert.Equal(1.5m, Product.Create("sku-1", "Widget", 1.5000m, 1).Price);
    }

    [Fact]
    public void Update_returns_a_new_product_and_leaves_the_old_one_unchanged()
    {
        var product = Widget();

        var updated = product.Update("Gadget", 5m, 3);

        Assert.Equal(("Gadget", 5m, 3), (updated.Name, updated.Price, updated.Stock));
        Assert.Equal(("Widget", 19.99m, 10), (product.Name, product.Price, product.Stock));
        Assert.Equal("sku-1", updated.Sku);
    }

    [Fact]
    public void Update_with_the_same_values_returns_the_same_instance()
    {
        var product = Widget();

        Assert.Same(product, product.Update("Widget", 19.99m, 10));
    }

    [Fact]
    public void Update_with_a_bad_value_is_a_validation_error()
    {
        var error = Assert.Throws<DomainRuleException>(() => Widget().Update("Widget", -1m, 10));

        Assert.Equal(DomainRuleKind.Validation, error.Kind);
    }

    [Fact]
    public void Reserve_takes_units_out_of_stock()
    {
        Assert.Equal(3, Widget(10).Reserve(7).Stock);
        Assert.Equal(0, Widget(10).Reserve(10).Stock);
    }

    [Fact]
    public void Reserve_more_than_stock_is_a_conflict_and_changes_nothing()
    {
        var product = Widget(5);

        var error = Assert.Throws<DomainRuleException>(() => product.Reserve(6));

        Assert.Equal(DomainRuleKind.Conflict, error.Kind);
        Assert.Contains("only 5 in stock", error.Message, StringComparison.Ordinal);
        Assert.Equal(5, product.Stock);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void Reserve_and_release_need_a_positive_quantity(int quantity)
    {
        Assert.Equal(DomainRuleKind.Validation, Assert.Throws<DomainRuleException>(() => Widget().Reserve(quantity)).Kind);
        Assert.Equal(DomainRuleKind.Validation, Assert.Throws<DomainRuleException>(() => Widget().Release(quantity)).Kind);
    }

    [Fact]
    public void Reserve_counts_the_units_as_reserved_outside_orders()
    {
        var product = Widget(10).Reserve(4);

        Assert.Equal((6, 4, 4, 0), (product.Stock, product.ReservedOutsideOrders, product.Reserved, product.ReservedForOrders));
        Assert.Equal(10, product.Units);
    }

    [Fact]
    public void Release_gives_back_units_reserved_outside_orders()
    {
        var product = Widget(10).Reserve(5).Release(2);

        Assert.Equal((7, 3), (product.Stock, product.ReservedOutsideOrders));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(0, 1000)]
    [InlineData(3, 4)]
    [InlineData(3, int.MaxValue)]
    public void Release_of_more_than_is_reserved_outside_orders_is_a_conflict_and_changes_nothing(int reserved, int release)
    {
        var product = reserved == 0 ? Widget(10) : Widget(10).Reserve(reserved);

        var error = Assert.Throws<DomainRuleException>(() => product.ReserveForOrder("order-1", 2).Release(release));

        Assert.Equal(DomainRuleKind.Conflict, error.Kind);
        Assert.Contains($"only {reserved} units are reserved outside orders; nothing was released", error.Message, StringComparison.Ordinal);
        Assert.Equal((10 - reserved, reserved), (product.Stock, product.ReservedOutsideOrders));
    }

    [Fact]
    public void An_order_reserves_once_and_its_reservation_is_released_or_sold_once()
    {
        var reserved = Widget(10).ReserveForOrder("order-1", 3);

        Assert.Same(reserved, reserved.ReserveForOrder("order-1", 5));
        Assert.Equal((7, 3, 0), (reserved.Stock, reserved.ReservedForOrders, reserved.ReservedOutsideOrders));
        var released = reserved.ReleaseOrder("order-1");
        Assert.Equal((10, 0), (released.Stock, released.Reserved));
        Assert.Same(released, released.ReleaseOrder("order-1"));
        var sold = reserved.Sell("order-1");
        Assert.Equal((7, 0, 3L), (sold.Stock, sold.Reserved, sold.Sold));
        Assert.Same(sold, sold.Sell("order-1"));
        Assert.Same(sold, sold.ReleaseOrder("order-1"));
    }

    [Fact]
    public void An_upsert_keeps_reserved_and_sold_units_and_refuses_a_stock_that_with_them_passes_the_maximum()
    {
        var product = Widget(10).ReserveForOrder("order-1", 3).Reserve(2).ReserveForOrder("order-2", 1).Sell("order-2");

        var error = Assert.Throws<DomainRuleException>(() => product.Update("Widget", 19.99m, Product.MaxStock - 4));
        var updated = product.Update("Gadget", 1m, Product.MaxStock - 5);

        Assert.Equal(DomainRuleKind.Conflict, error.Kind);
        Assert.Contains("5 units are reserved", error.Message, StringComparison.Ordinal);
        Assert.Equal((Product.MaxStock - 5, 5, 1L), (updated.Stock, updated.Reserved, updated.Sold));
        Assert.Equal(Product.MaxStock - 2, updated.ReleaseOrder("order-1").Stock); // at the maximum, a release still fits
    }

    [Fact]
    public void A_product_stored_before_stock_and_reserved_were_bounded_loads_and_refuses_a_release_past_the_maximum()
    {
        var legacy = Product.Restore("sku-1", "Widget", 1m, Product.MaxStock, 0, [KeyValuePair.Create("order-1", 2)], 0);

        var error = Assert.Throws<DomainRuleException>(() => legacy.ReleaseOrder("order-1"));

        Assert.Equal(DomainRuleKind.Conflict, error.Kind);
        Assert.Contains("more than the maximum", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, legacy.Sell("order-1").Sold);
    }

    [Theory]
    [InlineData(-1, 1, 0)]
    [InlineData(0, 0, 0)]
    [InlineData(0, -2, 0)]
    [InlineData(0, 1, -1)]
    [InlineData(Product.MaxStock, 1, 0)]
    public void Restore_refuses_negative_or_impossible_amounts(int outsideOrders, int orderQuantity, long sold)
    {
        var error = Assert.Throws<DomainRuleException>(
            () => Product.Restore("sku-1", "Widget", 1m, 5, outsideOrders, [KeyValuePair.Create("order-1", orderQuantity)], sold));

        Assert.Equal(DomainRuleKind.Validation, error.Kind);
    }
}
