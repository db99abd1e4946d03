using Shards.Cli.Commands;
using Shards.Contracts.Carts;

namespace Shards.Tests.Client;

/// <summary>The text view of <c>shards cart ...</c>: an empty cart says so, the checkout lock and the purchasing orders show.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class CartTextTests
{
    [Fact]
    public void An_empty_cart_says_it_is_empty_instead_of_an_empty_table()
    {
        var text = StoreCommands.CartText(new CartView("cart-ann", [], 0m, 0)).ToList();

        Assert.Equal(["Cart cart-ann is empty (version 0)."], text);
    }

    [Fact]
    public void A_cart_locked_by_a_checkout_names_the_order_that_holds_it()
    {
        var cart = new CartView("cart-ann", [new CartLineView("sku-lamp", 2, 24.90m, 49.80m)], 49.80m, 3, CheckoutOrderId: "order-ann-1");

        var text = StoreCommands.CartText(cart).ToList();

        Assert.Contains(text, l => l.StartsWith("sku-lamp", StringComparison.Ordinal) && l.Contains("49.80", StringComparison.Ordinal));
        Assert.Contains(text, l => l.StartsWith("Locked by order order-ann-1", StringComparison.Ordinal));
    }

    [Fact]
    public void A_cart_emptied_by_purchases_names_the_latest_orders()
    {
        var orders = Enumerable.Range(1, 7).Select(i => $"order-{i}").ToList();

        var text = StoreCommands.CartText(new CartView("cart-ann", [], 0m, 9, PurchasedOrders: orders)).ToList();

        Assert.Equal("Cart cart-ann is empty (version 9).", text[0]);
        Assert.Equal("Emptied by the purchases of orders order-3, order-4, order-5, order-6, order-7 (latest last; 2 earlier).", text[1]);
        Assert.Equal(
            "Emptied by the purchase of order order-1.",
            StoreCommands.CartText(new CartView("cart-bob", [], 0m, 2, PurchasedOrders: ["order-1"])).Last());
    }
}
