using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Contracts.Orders;
using Shards.Contracts.Payments;
using Shards.Tests.Grains;

namespace Shards.Tests.Checkout;

/// <summary>
/// The checkout saga on three silos and PostgreSQL: a paid order reserves, charges once and publishes purchased (the
/// cart is emptied, the products record sold units); a failed step undoes the earlier ones; a retry never repeats an effect.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class CheckoutSagaTests(CheckoutClusterFixture fixture) : IClassFixture<CheckoutClusterFixture>
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task A_paid_checkout_charges_once_empties_the_cart_and_turns_reservations_into_sold_units()
    {
        var (cart, lamp, cup) = await CartWithTwoLinesAsync();
        var orderId = Keys.New("order");

        var outcome = await Checkout(orderId).CheckoutAsync(cart, "tok-visa");

        Assert.True(outcome.Created);
        Assert.Equal(OrderStatus.Paid, outcome.Order.Status);
        Assert.Equal(CheckoutStage.Completed, outcome.Order.Stage);
        Assert.Equal(29m, outcome.Order.Total); // 2 x 12 + 1 x 5
        Assert.Equal(0, outcome.Order.PendingDeliveries);
        Assert.Equal(
            ["accepted", "cart-locked", "reserved", "reserved", "payment-requested", "paid", "delivered"],
            outcome.Order.Steps.Select(s => s.Step).Where(s => s != "partly-delivered"));
        Assert.True(outcome.Order.Steps.Zip(outcome.Order.Steps.Skip(1)).All(p => p.First.At <= p.Second.At));

        var emptied = await Grains.GetGrain<ICartGrain>(cart).GetAsync();
        Assert.Empty(emptied.Lines);
        Assert.Null(emptied.CheckoutOrderId);
        Assert.Equal([orderId], emptied.PurchasedOrders);
        Assert.Equal((8, 0, 2L), Units(await Grains.GetGrain<IProductGrain>(lamp).GetAsync()));
        Assert.Equal((9, 0, 1L), Units(await Grains.GetGrain<IProductGrain>(cup).GetAsync()));
        Assert.Equal([new LedgerRow(orderId, 29m, Approved: true, Refunded: false)], await PaymentLedger.ReadAsync(fixture.ConnectionString, orderId));
        Assert.Equal(0, await PaymentLedger.RemindersOfAsync(fixture.ConnectionString, orderId));
    }

    [Fact]
    public async Task A_declined_payment_releases_the_stock_and_unlocks_the_cart()
    {
        var (cart, lamp, cup) = await CartWithTwoLinesAsync();
        var orderId = Keys.New("order");

        var outcome = await Checkout(orderId).CheckoutAsync(cart, "tok-decline");

        Assert.Equal(OrderStatus.Failed, outcome.Order.Status);
        Assert.Contains("declined", outcome.Order.FailureReason, StringComparison.Ordinal);
        Assert.Equal("compensated", outcome.Order.Steps[^1].Step);
        Assert.Equal((10, 0, 0L), Units(await Grains.GetGrain<IProductGrain>(lamp).GetAsync()));
        Assert.Equal((10, 0, 0L), Units(await Grains.GetGrain<IProductGrain>(cup).GetAsync()));
        var kept = await Grains.GetGrain<ICartGrain>(cart).GetAsync();
        Assert.Equal(2, kept.Lines.Count);
        Assert.Null(kept.CheckoutOrderId);
        Assert.Equal(PaymentStatus.Declined, (await Grains.GetGrain<IPaymentGrain>(orderId).GetAsync()).Status);
        Assert.Equal([new LedgerRow(orderId, 29m, Approved: false, Refunded: false)], await PaymentLedger.ReadAsync(fixture.ConnectionString, orderId));

        // The cart is free again: a new order pays for it.
        Assert.Equal(OrderStatus.Paid, (await Checkout(Keys.New("order")).CheckoutAsync(cart, "tok-visa")).Order.Status);
    }

    [Fact]
    public async Task A_gateway_timeout_fails_the_order_and_refunds_the_charge_that_landed()
    {
        var (cart, lamp, _) = await CartWithTwoLinesAsync();
        var orderId = Keys.New("order");

        var outcome = await Checkout(orderId).CheckoutAsync(cart, "tok-timeout");

        Assert.Equal(OrderStatus.Failed, outcome.Order.Status);
        Assert.Contains("timed out", outcome.Order.FailureReason, StringComparison.Ordinal);
        Assert.Contains("payment refunded", outcome.Order.Steps[^1].Detail, StringComparison.Ordinal);
        Assert.Equal(PaymentStatus.Refunded, (await Grains.GetGrain<IPaymentGrain>(orderId).GetAsync()).Status);
        Assert.Equal([new LedgerRow(orderId, 29m, Approved: true, Refunded: true)], await PaymentLedger.ReadAsync(fixture.ConnectionString, orderId));
        Assert.Equal((10, 0, 0L), Units(await Grains.GetGrain<IProductGrain>(lamp).GetAsync()));
    }

    [Fact]
    public async Task Not_enough_stock_releases_the_lines_already_reserved_and_never_charges()
    {
        var (cart, lamp, cup) = await CartWithTwoLinesAsync();
        await Grains.GetGrain<IProductGrain>(cup).UpsertAsync(new ProductDefinition("Cup", 5m, 0));
        var orderId = Keys.New("order");

        var outcome = await Checkout(orderId).CheckoutAsync(cart, "tok-visa");

        Assert.Equal(OrderStatus.Failed, outcome.Order.Status);
        Assert.Contains($"Cannot reserve 1 of {cup}", outcome.Order.FailureReason, StringComparison.Ordinal);
        Assert.Equal((10, 0, 0L), Units(await Grains.GetGrain<IProductGrain>(lamp).GetAsync()));
        Assert.Empty(await PaymentLedger.ReadAsync(fixture.ConnectionString, orderId));
        Assert.DoesNotContain(outcome.Order.Steps, s => s.Step == "payment-requested");
    }

    [Fact]
    public async Task A_retried_checkout_answers_the_same_order_and_never_reserves_or_charges_twice()
    {
        var (cart, lamp, _) = await CartWithTwoLinesAsync();
        var orderId = Keys.New("order");

        var first = await Checkout(orderId).CheckoutAsync(cart, "tok-visa");
        var retried = await Checkout(orderId).CheckoutAsync(cart, "tok-visa");
        await DeactivateEverythingAsync();
        var retriedAfterReload = await Checkout(orderId).CheckoutAsync(cart, "tok-visa");
        var otherCart = await Assert.ThrowsAsync<ShardsException>(() => Checkout(orderId).CheckoutAsync(Keys.New("cart"), "tok-visa"));

        Assert.False(retried.Created);
        Assert.Equal(first.Order with { Steps = [], Lines = [] }, retried.Order with { Steps = [], Lines = [] });
        Assert.Equal(first.Order.Lines, retried.Order.Lines);
        Assert.Equal(first.Order.Steps, retried.Order.Steps);
        Assert.Equal(first.Order.Steps, retriedAfterReload.Order.Steps);
        Assert.Equal(ShardsErrorCode.Conflict, otherCart.Code);
        Assert.Single(await PaymentLedger.ReadAsync(fixture.ConnectionString, orderId));
        Assert.Equal((8, 0, 2L), Units(await Grains.GetGrain<IProductGrain>(lamp).GetAsync()));
    }

    [Fact]
    public async Task An_empty_cart_or_one_locked_by_another_order_is_refused_without_creating_an_order()
    {
        var empty = Keys.New("cart");
        var emptyOrder = Keys.New("order");
        var (locked, _, _) = await CartWithTwoLinesAsync();
        var holder = Keys.New("order");
        await Grains.GetGrain<ICartGrain>(locked).BeginCheckoutAsync(holder);
        var second = Keys.New("order");

        var refusedEmpty = await Assert.ThrowsAsync<ShardsException>(() => Checkout(emptyOrder).CheckoutAsync(empty, "tok-visa"));
        var refusedLocked = await Assert.ThrowsAsync<ShardsException>(() => Checkout(second).CheckoutAsync(locked, "tok-visa"));
        var refusedChange = await Assert.ThrowsAsync<ShardsException>(() => Grains.GetGrain<ICartGrain>(locked).ClearAsync());
        var invalid = await Assert.ThrowsAsync<ShardsException>(() => Checkout(Keys.New("order")).CheckoutAsync(locked, "bad token!"));

        Assert.Equal(ShardsErrorCode.Conflict, refusedEmpty.Code);
        Assert.Contains("empty", refusedEmpty.Message, StringComparison.Ordinal);
        Assert.Equal(ShardsErrorCode.Conflict, refusedLocked.Code);
        Assert.Contains(holder, refusedLocked.Message, StringComparison.Ordinal);
        Assert.Equal(ShardsErrorCode.Conflict, refusedChange.Code);
        Assert.Equal(ShardsErrorCode.Validation, invalid.Code);
        Assert.Null(await Checkout(emptyOrder).GetAsync());
        Assert.Null(await Checkout(second).GetAsync());
        Assert.Equal(2, (await Grains.GetGrain<ICartGrain>(locked).GetAsync()).Lines.Count);
    }

    [Fact]
    public async Task A_redelivered_purchased_event_changes_neither_the_cart_nor_the_products()
    {
        var (cart, lamp, _) = await CartWithTwoLinesAsync();
        var orderId = Keys.New("order");
        await Checkout(orderId).CheckoutAsync(cart, "tok-visa");
        await Grains.GetGrain<ICartGrain>(cart).AddAsync(lamp, 1); // the customer fills the cart again
        var purchased = new Shards.Contracts.Events.PurchasedEvent(
            Shards.Contracts.Events.PurchasedEvent.IdFor(orderId), orderId, cart, new[] { new Shards.Contracts.Events.PurchasedLine(lamp, 2, 12m) }, DateTimeOffset.UtcNow);

        await Grains.GetGrain<ICartGrain>(cart).OnPurchasedAsync(purchased);
        await Grains.GetGrain<IProductGrain>(lamp).OnPurchasedAsync(purchased);

        var refilled = await Grains.GetGrain<ICartGrain>(cart).GetAsync();
        Assert.Equal(1, Assert.Single(refilled.Lines).Quantity);
        Assert.Equal([orderId], refilled.PurchasedOrders);
        Assert.Equal((8, 0, 2L), Units(await Grains.GetGrain<IProductGrain>(lamp).GetAsync()));
    }

    /// <summary>Every activation is collected, so the next call reloads from PostgreSQL (re-sent if the client gave up waiting).</summary>
    private async Task DeactivateEverythingAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
                return;
            }
            catch (TimeoutException) when (attempt < 5)
            {
                // a busy machine: collecting every activation took longer than the client waits for an answer
            }
        }
    }

    private ICheckoutGrain Checkout(string orderId) => Grains.GetGrain<ICheckoutGrain>(orderId);

    /// <summary>A cart holding 2 x lamp (12.00, stock 10) and 1 x cup (5.00, stock 10), on fresh keys.</summary>
    private async Task<(string Cart, string Lamp, string Cup)> CartWithTwoLinesAsync()
    {
        var lamp = Keys.New("sku-lamp");
        var cup = Keys.New("sku-cup");
        var cart = Keys.New("cart");
        await Grains.GetGrain<IProductGrain>(lamp).UpsertAsync(new ProductDefinition("Lamp", 12m, 10));
        await Grains.GetGrain<IProductGrain>(cup).UpsertAsync(new ProductDefinition("Cup", 5m, 10));
        await Grains.GetGrain<ICartGrain>(cart).AddAsync(lamp, 2);
        await Grains.GetGrain<ICartGrain>(cart).AddAsync(cup, 1);
        return (cart, lamp, cup);
    }

    private static (int Stock, int Reserved, long Sold) Units(ProductSnapshot? product) =>
        (product!.Stock, product.Reserved, product.Sold);
}
