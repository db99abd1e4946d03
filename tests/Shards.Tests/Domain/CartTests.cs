using Shards.Domain;
using Shards.Domain.Carts;

namespace Shards.Tests.Domain;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class CartTests
{
    private static readonly Cart EmptyCart = Cart.Empty("cart-1");

    [Fact]
    public void An_empty_cart_has_no_lines_and_a_zero_total()
    {
        Assert.True(EmptyCart.IsEmpty);
        Assert.Empty(EmptyCart.Lines);
        Assert.Equal(0m, EmptyCart.Total);
    }

    [Fact]
    public void A_malformed_cart_id_is_a_validation_error()
    {
        var error = Assert.Throws<DomainRuleException>(() => Cart.Empty("no spaces"));

        Assert.Equal(DomainRuleKind.Validation, error.Kind);
        Assert.Contains("cart ID", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_computes_line_totals_and_the_cart_total()
    {
        var cart = EmptyCart.Add("sku-1", 3, 2.50m).Add("sku-2", 1, 10m);

        Assert.Equal(["sku-1", "sku-2"], cart.Lines.Select(line => line.Sku));
        Assert.Equal(7.50m, cart.Lines[0].LineTotal);
        Assert.Equal(17.50m, cart.Total);
    }

    [Fact]
    public void Add_to_an_existing_line_adds_the_quantity_and_takes_the_new_price()
    {
        var cart = EmptyCart.Add("sku-1", 3, 2.50m).Add("sku-1", 2, 3m);

        var line = Assert.Single(cart.Lines);
        Assert.Equal((5, 3m, 15m), (line.Quantity, line.UnitPrice, line.LineTotal));
    }

    [Fact]
    public void Add_leaves_the_original_cart_unchanged()
    {
        var cart = EmptyCart.Add("sku-1", 1, 1m);

        cart.Add("sku-2", 1, 1m);

        Assert.Single(cart.Lines);
        Assert.Empty(EmptyCart.Lines);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(10_001)]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue)]
    public void Add_rejects_quantities_outside_1_to_10000(int quantity)
    {
        var error = Assert.Throws<DomainRuleException>(() => EmptyCart.Add("sku-1", quantity, 1m));

        Assert.Equal(DomainRuleKind.Validation, error.Kind);
    }

    [Fact]
    public void Add_rejects_a_malformed_sku_or_price()
    {
        Assert.Equal(DomainRuleKind.Validation, Assert.Throws<DomainRuleException>(() => EmptyCart.Add("a b", 1, 1m)).Kind);
        Assert.Equal(DomainRuleKind.Validation, Assert.Throws<DomainRuleException>(() => EmptyCart.Add("sku-1", 1, -1m)).Kind);
        Assert.Equal(DomainRuleKind.Validation, Assert.Throws<DomainRuleException>(() => EmptyCart.Add("sku-1", 1, 0.001m)).Kind);
    }

    [Fact]
    public void Adding_past_10000_on_one_line_is_a_conflict_and_changes_nothing()
    {
        var cart = EmptyCart.Add("sku-1", Cart.MaxQuantityPerLine, 1m);

        var error = Assert.Throws<DomainRuleException>(() => cart.Add("sku-1", 1, 1m));

        Assert.Equal(DomainRuleKind.Conflict, error.Kind);
        Assert.Equal(Cart.MaxQuantityPerLine, Assert.Single(cart.Lines).Quantity);
    }

    [Fact]
    public void A_cart_holds_at_most_100_lines()
    {
        var cart = EmptyCart;
        for (var i = 0; i < Cart.MaxLines; i++)
        {
            cart = cart.Add($"sku-{i}", 1, 1m);
        }

        var error = Assert.Throws<DomainRuleException>(() => cart.Add("one-more", 1, 1m));

        Assert.Equal(DomainRuleKind.Conflict, error.Kind);
        Assert.Equal(Cart.MaxLines, cart.Lines.Count);
        Assert.Equal(2, cart.Add("sku-0", 1, 1m).Find("sku-0")!.Quantity);
        Assert.Equal(DomainRuleKind.Conflict, Assert.Throws<DomainRuleException>(() => cart.SetQuantity("one-more", 1, 1m)).Kind);
    }

    [Fact]
    public void The_largest_cart_total_does_not_overflow()
    {
        var cart = EmptyCart;
        for (var i = 0; i < Cart.MaxLines; i++)
        {
            cart = cart.Add($"sku-{i}", Cart.MaxQuantityPerLine, 1_000_000m);
        }

        Assert.Equal(100m * 10_000m * 1_000_000m, cart.Total);
    }

    [Fact]
    public void SetQuantity_replaces_the_quantity_and_price()
    {
        var cart = EmptyCart.Add("sku-1", 3, 2m).SetQuantity("sku-1", 7, 4m);

        var line = Assert.Single(cart.Lines);
        Assert.Equal((7, 4m, 28m), (line.Quantity, line.UnitPrice, line.LineTotal));
    }

    [Fact]
    public void SetQuantity_on_a_missing_line_adds_it()
    {
        var line = Assert.Single(EmptyCart.SetQuantity("sku-1", 2, 3m).Lines);

        Assert.Equal(6m, line.LineTotal);
    }

    [Fact]
    public void SetQuantity_zero_removes_the_line()
    {
        var cart = EmptyCart.Add("sku-1", 3, 2m).Add("sku-2", 1, 1m).SetQuantity("sku-1", 0, 0m);

        Assert.Equal("sku-2", Assert.Single(cart.Lines).Sku);
    }

    [Fact]
    public void SetQuantity_that_changes_nothing_returns_the_same_cart()
    {
        var cart = EmptyCart.Add("sku-1", 3, 2m);

        Assert.Same(cart, cart.SetQuantity("sku-1", 3, 2m));
        Assert.Same(cart, cart.SetQuantity("absent", 0, 0m));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10_001)]
    [InlineData(int.MinValue)]
    public void SetQuantity_rejects_quantities_outside_0_to_10000(int quantity)
    {
        var cart = EmptyCart.Add("sku-1", 3, 2m);

        var error = Assert.Throws<DomainRuleException>(() => cart.SetQuantity("sku-1", quantity, 2m));

        Assert.Equal(DomainRuleKind.Validation, error.Kind);
        Assert.Equal(3, Assert.Single(cart.Lines).Quantity);
    }

    [Fact]
    public void Remove_deletes_the_line()
    {
        Assert.True(EmptyCart.Add("sku-1", 3, 2m).Remove("sku-1").IsEmpty);
    }

    [Fact]
    public void Remove_of_a_missing_line_is_not_found()
    {
        var error = Assert.Throws<DomainRuleException>(() => EmptyCart.Remove("sku-1"));

        Assert.Equal(DomainRuleKind.NotFound, error.Kind);
        Assert.Contains("no line for sku-1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Clear_empties_the_cart_and_an_empty_cart_stays_the_same()
    {
        Assert.True(EmptyCart.Add("sku-1", 3, 2m).Clear().IsEmpty);
        Assert.Same(EmptyCart, EmptyCart.Clear());
    }

    [Fact]
    public void SKUs_are_case_sensitive()
    {
        var cart = EmptyCart.Add("SKU-1", 1, 1m).Add("sku-1", 1, 1m);

        Assert.Equal(2, cart.Lines.Count);
    }

    [Fact]
    public void Restore_rebuilds_lines_in_order_and_checks_the_rules()
    {
        var cart = Cart.Restore("cart-1", [CartLine.Create("sku-b", 1, 1m), CartLine.Create("sku-a", 2, 2m)]);

        Assert.Equal(["sku-b", "sku-a"], cart.Lines.Select(line => line.Sku));
        Assert.Equal(5m, cart.Total);
        Assert.Throws<DomainRuleException>(() => Cart.Restore("cart-1", [CartLine.Create("sku-a", 1, 1m), CartLine.Create("sku-a", 1, 1m)]));
        Assert.Throws<DomainRuleException>(() => Cart.Restore("cart-1", Enumerable.Range(0, 101).Select(i => CartLine.Create($"s{i}", 1, 1m))));
    }
}
