using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Orders;
using Shards.Tests.Grains;

namespace Shards.Tests.Checkout;

/// <summary>Its own cluster: the silo running a checkout is killed while the payment gateway holds its answer.</summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class CheckoutResumeTests(CheckoutKillFixture fixture) : IClassFixture<CheckoutKillFixture>
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);

    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task An_order_whose_silo_dies_mid_payment_resumes_from_its_persisted_step_and_is_charged_once()
    {
        var sku = Keys.New("sku-resume");
        var cart = Keys.New("cart");
        await Grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition("Kettle", 30m, 10));
        await Grains.GetGrain<ICartGrain>(cart).AddAsync(sku, 3);

        // An order that lives on a silo the test may kill (never the first: the test cluster leans on it).
        var primary = fixture.Cluster.Silos[0].SiloAddress.ToString();
        string orderId;
        string home;
        do
        {
            orderId = Keys.New("order");
            home = (await Grains.GetGrain<ICheckoutGrain>(orderId).WhereAsync()).Silo;
        }
        while (home == primary);

        var running = Grains.GetGrain<ICheckoutGrain>(orderId).CheckoutAsync(cart, HoldingPaymentGateway.HoldPrefix);
        await HoldingPaymentGateway.EnteredAsync(orderId).WaitAsync(s_bound);
        var midway = await Grains.GetGrain<ICheckoutGrain>(orderId).GetAsync();
        var remindersMidway = await PaymentLedger.RemindersOfAsync(fixture.ConnectionString, orderId);

        await fixture.Cluster.KillSiloAsync(fixture.Cluster.Silos.Single(s => s.SiloAddress.ToString() == home));
        HoldingPaymentGateway.Release(orderId);
        await Task.WhenAny(running, Task.Delay(s_bound)); // the caller's own call may fail with the silo: its outcome is not needed

        // Any call reactivates the order on a survivor; it resumes on its own from the stored step.
        var resumed = await PollAsync(orderId, o => o.Stage == CheckoutStage.Completed);

        Assert.Equal(CheckoutStage.Paying, midway!.Stage);
        Assert.Equal(OrderStatus.Pending, midway.Status);
        Assert.Equal(1, remindersMidway);
        Assert.Equal(OrderStatus.Paid, resumed.Status);
        Assert.Single(resumed.Steps, s => s.Step == "paid");
        Assert.Equal([new LedgerRow(orderId, 90m, Approved: true, Refunded: false)], await PaymentLedger.ReadAsync(fixture.ConnectionString, orderId));
        var product = (await Grains.GetGrain<IProductGrain>(sku).GetAsync())!;
        Assert.Equal((7, 0, 3L), (product.Stock, product.Reserved, product.Sold));
        var emptied = await Grains.GetGrain<ICartGrain>(cart).GetAsync();
        Assert.Empty(emptied.Lines);
        Assert.Equal([orderId], emptied.PurchasedOrders);
        await Eventually(async () => await PaymentLedger.RemindersOfAsync(fixture.ConnectionString, orderId) == 0);
    }

    private async Task<OrderView> PollAsync(string orderId, Func<OrderView, bool> done)
    {
        var deadline = DateTime.UtcNow + s_bound;
        while (true)
        {
            try
            {
                if (await Grains.GetGrain<ICheckoutGrain>(orderId).GetAsync() is { } order && (done(order) || DateTime.UtcNow > deadline))
                {
                    return order;
                }
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                // the cluster is still settling after the kill
            }

            await Task.Delay(100);
        }
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + s_bound;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true in time");
            await Task.Delay(100);
        }
    }
}
