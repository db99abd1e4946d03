using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Shards.Contracts;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Orders;
using Shards.Contracts.Payments;
using Shards.Domain.Catalog;
using Shards.Grains.Catalog;
using Shards.Grains.Common;
using Shards.Grains.Orders;
using Shards.Tests.Grains;

namespace Shards.Tests.Checkout;

/// <summary>
/// The checkout saga when an undo step is refused for good, when it never gets past payment, when the answer of its
/// first write is lost, and what a GET shows while a write is pending.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class SagaFaultTests(SagaFaultsFixture fixture) : IClassFixture<SagaFaultsFixture>
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task A_get_during_a_pending_write_shows_the_last_stored_step_never_the_one_being_written()
    {
        var (cart, _) = await CartAsync();
        var orderId = Keys.New("order");
        var orders = fixture.Storage(StorageNames.Orders);
        var grainId = Checkout(orderId).GetGrainId();
        orders.HoldWrites(grainId);

        var running = Checkout(orderId).CheckoutAsync(cart, "tok-visa");
        var accepted = await orders.NextHeldWriteAsync(grainId, s_bound);
        var duringFirstWrite = await Checkout(orderId).GetAsync();
        accepted.Release();
        var locked = await orders.NextHeldWriteAsync(grainId, s_bound);
        var duringSecondWrite = await Checkout(orderId).GetAsync();
        orders.Heal(grainId);
        locked.Release();
        var outcome = await running;

        Assert.Equal(CheckoutStage.Accepted, ((OrderState)accepted.State).Stage);
        Assert.Null(duringFirstWrite);
        Assert.Equal(CheckoutStage.Reserving, ((OrderState)locked.State).Stage);
        Assert.Equal(CheckoutStage.Accepted, duringSecondWrite!.Stage);
        Assert.Equal(["accepted"], duringSecondWrite.Steps.Select(s => s.Step));
        Assert.Empty(duringSecondWrite.Lines);
        Assert.Equal(CheckoutStage.Completed, outcome.Order.Stage);
    }

    [Fact]
    public async Task A_refund_the_processor_refuses_is_recorded_and_the_stock_and_the_cart_are_still_released()
    {
        var (cart, sku) = await CartAsync();
        var orderId = Keys.New("order");

        await IgnoreFailure(Checkout(orderId).CheckoutAsync(cart, "tok-timeout-norefund"));
        var order = await SettledAsync(orderId);

        Assert.Equal(OrderStatus.Failed, order.Status);
        Assert.Contains("timed out", order.FailureReason, StringComparison.Ordinal);
        var undoFailed = Assert.Single(order.Steps, s => s.Step == "undo-failed");
        Assert.Contains("could not be undone", undoFailed.Detail, StringComparison.Ordinal);
        Assert.Contains("refuses refunds", undoFailed.Detail, StringComparison.Ordinal);
        Assert.Equal("compensated", order.Steps[^1].Step);
        Assert.Equal((10, 0, 0L), Units(await Grains.GetGrain<IProductGrain>(sku).GetAsync()));
        Assert.Null((await Grains.GetGrain<ICartGrain>(cart).GetAsync()).CheckoutOrderId);
        Assert.Equal(new ScriptedCharge(10m, Approved: true, Refunded: false, "tok-timeout-norefund"), fixture.Gateway.Find(orderId));
    }

    [Fact]
    public async Task A_release_refused_during_compensation_is_recorded_and_the_cart_is_still_unlocked()
    {
        var (cart, sku) = await CartAsync();
        var orderId = Keys.New("order");

        var running = Checkout(orderId).CheckoutAsync(cart, HoldingPaymentGateway.HoldPrefix + "-decline");
        await HoldingPaymentGateway.EnteredAsync(orderId).WaitAsync(s_bound);
        // Stored before stock + reserved was bounded: releasing this order's 2 units would pass the maximum stock.
        await RewriteProductAsync(sku, stored => new ProductState
        {
            Name = stored.Name,
            Price = stored.Price,
            Stock = Product.MaxStock,
            Version = stored.Version + 1,
            Reservations = stored.Reservations,
            Sold = stored.Sold,
            SettledOrders = stored.SettledOrders,
        });
        HoldingPaymentGateway.Release(orderId);
        await IgnoreFailure(running);
        var order = await SettledAsync(orderId);

        Assert.Equal(OrderStatus.Failed, order.Status);
        Assert.Contains("declined", order.FailureReason, StringComparison.Ordinal);
        var undoFailed = Assert.Single(order.Steps, s => s.Step == "undo-failed");
        Assert.Contains($"2 x {sku} could not be undone", undoFailed.Detail, StringComparison.Ordinal);
        var unlocked = await Grains.GetGrain<ICartGrain>(cart).GetAsync();
        Assert.Null(unlocked.CheckoutOrderId);
        Assert.Single(unlocked.Lines);
        Assert.Equal(PaymentStatus.Declined, (await Grains.GetGrain<IPaymentGrain>(orderId).GetAsync()).Status);
    }

    [Fact]
    public async Task An_order_that_cannot_get_past_payment_compensates_at_the_deadline_and_refunds_the_charge_whose_outcome_was_never_stored()
    {
        var (cart, sku) = await CartAsync();
        var orderId = Keys.New("order");
        var payments = fixture.Storage(StorageNames.Payments);
        var payment = Grains.GetGrain<IPaymentGrain>(orderId).GetGrainId();
        payments.FailWrites(payment); // the gateway charges, but the payment's outcome can never be stored

        await IgnoreFailure(Checkout(orderId).CheckoutAsync(cart, "tok-visa"));
        var compensating = await PollAsync(orderId, o => o.Stage is CheckoutStage.Compensating or CheckoutStage.Failed);
        payments.Heal(payment);
        var order = await SettledAsync(orderId);

        Assert.Equal(CheckoutStage.Compensating, compensating.Stage);
        Assert.Contains("deadline", compensating.FailureReason, StringComparison.Ordinal);
        Assert.Contains("Paying", compensating.FailureReason, StringComparison.Ordinal);
        Assert.True(compensating.UpdatedAt - compensating.CreatedAt >= SagaFaultsFixture.SagaDeadline, "compensating before the deadline");
        Assert.Equal(OrderStatus.Failed, order.Status);
        Assert.DoesNotContain(order.Steps, s => s.Step == "undo-failed");
        Assert.Equal(new ScriptedCharge(10m, Approved: true, Refunded: true, "tok-visa"), fixture.Gateway.Find(orderId));
        Assert.Equal(PaymentStatus.Refunded, (await Grains.GetGrain<IPaymentGrain>(orderId).GetAsync()).Status);
        Assert.Equal((10, 0, 0L), Units(await Grains.GetGrain<IProductGrain>(sku).GetAsync()));
        Assert.Null((await Grains.GetGrain<ICartGrain>(cart).GetAsync()).CheckoutOrderId);
    }

    [Fact]
    public async Task A_first_write_whose_answer_was_lost_keeps_the_reminder_which_drives_the_stored_order_to_its_end()
    {
        var (cart, sku) = await CartAsync();
        var orderId = Keys.New("order");
        var grainId = Checkout(orderId).GetGrainId();
        fixture.Storage(StorageNames.Orders).LoseAnswerOfNextWrite(grainId);

        var lost = await Record.ExceptionAsync(() => Checkout(orderId).CheckoutAsync(cart, "tok-visa"));
        // Nobody calls the order again: only its reminder can finish what the database says was accepted.
        var deadline = DateTime.UtcNow + s_bound;
        OrderState stored;
        while ((stored = await StoredOrderAsync(grainId)).Stage != CheckoutStage.Completed)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the stored order stayed at {stored.Stage}");
            await Task.Delay(100);
        }

        Assert.NotNull(lost);
        Assert.Equal((8, 0, 2L), Units(await Grains.GetGrain<IProductGrain>(sku).GetAsync()));
        Assert.Empty((await Grains.GetGrain<ICartGrain>(cart).GetAsync()).Lines);
        var reminders = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IReminderTable>();
        while ((await reminders.ReadRows(grainId)).Reminders.Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the finished order kept its reminder");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_subscriber_that_fails_is_retried_and_its_attempts_and_last_error_are_stored_without_a_step_per_retry()
    {
        var (cart, _) = await CartAsync();
        var orderId = Keys.New("order");
        var cartId = Grains.GetGrain<ICartGrain>(cart).GetGrainId();
        var carts = fixture.Storage(StorageNames.Carts);
        carts.HoldWrites(cartId);
        var checkout = IgnoreFailure(Checkout(orderId).CheckoutAsync(cart, "tok-visa"));
        try
        {
            (await carts.NextHeldWriteAsync(cartId, s_bound)).Release(); // the checkout's lock on the cart
            await PollAsync(orderId, o => o.Stage is not CheckoutStage.Accepted); // the lock is stored
            carts.FailWrites(cartId); // from here the cart cannot store purchased: every delivery to it fails
            for (var attempt = 0; attempt < 3; attempt++)
            {
                (await carts.NextHeldWriteAsync(cartId, s_bound)).Release();
            }

            var failing = Assert.Single((await StoredOrderAsync(Checkout(orderId).GetGrainId())).Deliveries, d => d.Subscription == "carts");
            Assert.False(failing.Acknowledged);
            Assert.True(failing.Attempts >= 2, $"{failing.Attempts} attempt(s) stored");
            Assert.NotNull(failing.LastError);
            Assert.NotNull(failing.LastAttemptAt);
        }
        finally
        {
            carts.HealAndReleaseHeld(cartId);
        }

        await checkout;
        var order = await SettledAsync(orderId);
        Assert.Equal(CheckoutStage.Completed, order.Stage);
        var delivered = Assert.Single((await StoredOrderAsync(Checkout(orderId).GetGrainId())).Deliveries, d => d.Subscription == "carts");
        Assert.True(delivered.Acknowledged && delivered.Attempts >= 3 && delivered.AcknowledgedAt is not null && delivered.LastError is null, delivered.ToString());
        Assert.True(order.Steps.Count(s => s.Step is "partly-delivered" or "delivered") <= 2, string.Join(", ", order.Steps.Select(s => s.Step)));
    }

    private ICheckoutGrain Checkout(string orderId) => Grains.GetGrain<ICheckoutGrain>(orderId);

    /// <summary>A fresh cart holding 2 units (5.00 each) of a fresh product with 10 in stock.</summary>
    private async Task<(string Cart, string Sku)> CartAsync()
    {
        var sku = Keys.New("sku");
        var cart = Keys.New("cart");
        await Grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition("Lamp", 5m, 10));
        await Grains.GetGrain<ICartGrain>(cart).AddAsync(sku, 2);
        return (cart, sku);
    }

    private async Task RewriteProductAsync(string sku, Func<ProductState, ProductState> change)
    {
        var product = Grains.GetGrain<IProductGrain>(sku);
        var inner = fixture.Storage(StorageNames.Catalog).Inner;
        var stored = new GrainState<ProductState>();
        await inner.ReadStateAsync(StateNames.Product, product.GetGrainId(), stored);
        stored.State = change(stored.State!);
        await inner.WriteStateAsync(StateNames.Product, product.GetGrainId(), stored);
        await fixture.Cluster.DeactivateAsync(product);
    }

    private async Task<OrderState> StoredOrderAsync(GrainId grainId)
    {
        var stored = new GrainState<OrderState>();
        await fixture.Storage(StorageNames.Orders).Inner.ReadStateAsync(StateNames.Order, grainId, stored);
        return stored.State ?? new OrderState();
    }

    private Task<OrderView> SettledAsync(string orderId) => PollAsync(orderId, o => o.Stage is CheckoutStage.Completed or CheckoutStage.Failed);

    private async Task<OrderView> PollAsync(string orderId, Func<OrderView, bool> done)
    {
        var deadline = DateTime.UtcNow + s_bound;
        while (true)
        {
            var order = await Checkout(orderId).GetAsync();
            if (order is not null && done(order))
            {
                return order;
            }

            Assert.True(DateTime.UtcNow < deadline, $"order {orderId} stayed at {order?.Stage} ({order?.FailureReason})");
            await Task.Delay(100);
        }
    }

    /// <summary>The caller's own call may fail (a transient step, or, before the fix, a stuck compensation): the order's stored outcome is what counts.</summary>
    private static async Task IgnoreFailure(Task call)
    {
        try
        {
            await call;
        }
        catch (Exception)
        {
            // the saga goes on without the caller
        }
    }

    private static (int Stock, int Reserved, long Sold) Units(ProductSnapshot? product) => (product!.Stock, product.Reserved, product.Sold);
}
