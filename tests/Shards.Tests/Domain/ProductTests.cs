using Shards.Domain;
using Shards.Domain.Catalog;

namespace Shards.Tests.Domain;

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
    public void Release_puts_units_back()
    {
        Assert.Equal(15, Widget(10).Release(5).Stock);
    }

    [Fact]
    public void Release_beyond_the_maximum_stock_is_a_conflict_without_overflow()
    {
        var product = Widget(Product.MaxStock);

        var error = Assert.Throws<DomainRuleException>(() => product.Release(int.MaxValue));

        Assert.Equal(DomainRuleKind.Conflict, error.Kind);
        Assert.Equal(Product.MaxStock, product.Stock);
        Assert.Equal(Product.MaxStock, Widget(Product.MaxStock - 1).Release(1).Stock);
    }
}
