using System.Collections.Concurrent;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Contracts.Orders;
using Shards.Tests.Grains;

namespace Shards.Tests.Checkout;

/// <summary>
/// Its own PostgreSQL server, restarted under the cluster: a checkout whose payment answer comes while PostgreSQL is
/// down, and a burst of checkouts across the restart, end paid or failed with every effect applied exactly once.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class CheckoutPostgresRestartTests(CheckoutRestartFixture fixture) : IClassFixture<CheckoutRestartFixture>
{
    private static readonly TimeSpan s_downtime = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan s_bound = TimeSpan.FromMinutes(2);

    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task Checkouts_across_a_PostgreSQL_restart_are_paid_delivered_and_charged_exactly_once()
    {
        var deadline = DateTime.UtcNow + s_bound;
        var skus = Enumerable.Range(1, 4).Select(i => $"sku-restart-{i}").ToArray();
        foreach (var sku in skus)
        {
            await Grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition($"Restart {sku}", 4m, 500));
        }

        var orders = new List<(string OrderId, string CartId, string Token)>();
        for (var i = 0; i < 30; i++)
        {
            var cart = $"cart-restart-{i:00}";
            await Grains.GetGrain<ICartGrain>(cart).AddAsync(skus[i % skus.Length], 1 + (i % 3));
            orders.Add(($"order-restart-{i:00}", cart, i == 0 ? HoldingPaymentGateway.HoldPrefix : i % 7 == 3 ? "tok-decline" : "tok-visa"));
        }

        // Order 0 is charged, then its answer is held; PostgreSQL goes down; the answer comes while it is down.
        var held = OrderClient.CheckoutUntilDecidedAsync(Grains, orders[0].OrderId, orders[0].CartId, orders[0].Token, deadline, TimeSpan.FromMilliseconds(100));
        await HoldingPaymentGateway.EnteredAsync(orders[0].OrderId).WaitAsync(s_bound);
        var outcomes = new ConcurrentDictionary<string, OrderView>();
        var queue = new ConcurrentQueue<(string OrderId, string CartId, string Token)>(orders.Skip(1));
        var workers = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            while (queue.TryDequeue(out var order))
            {
                outcomes[order.OrderId] = await OrderClient.CheckoutUntilDecidedAsync(Grains, order.OrderId, order.CartId, order.Token, deadline, TimeSpan.FromMilliseconds(100));
            }
        })).ToArray();
        var restart = Task.Run(async () =>
        {
            while (outcomes.Count < 5 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10);
            }

            // The held answer is released once PostgreSQL is stopped, so it comes while PostgreSQL is down.
            await fixture.Server.RestartAsync(s_downtime, whileDown: () => HoldingPaymentGateway.Release(orders[0].OrderId));
        });
        await Task.WhenAll([.. workers, restart]);
        outcomes[orders[0].OrderId] = await held;

        var final = new Dictionary<string, OrderView>();
        foreach (var (orderId, _, _) in orders)
        {
            final[orderId] = await OrderClient.PollUntilSettledAsync(Grains, orderId, deadline);
        }

        var paid = final.Values.Where(o => o.Stage == CheckoutStage.Completed).ToList();
        Assert.Equal(orders.Where(o => o.Token != "tok-decline").Select(o => o.OrderId).Order(), paid.Select(o => o.OrderId).Order());
        Assert.All(final.Values.Except(paid), o => Assert.Equal(CheckoutStage.Failed, o.Stage));
        foreach (var order in paid)
        {
            var cart = await Grains.GetGrain<ICartGrain>(order.CartId).GetAsync();
            Assert.Empty(cart.Lines);
            Assert.Equal([order.OrderId], cart.PurchasedOrders);
        }

        foreach (var sku in skus)
        {
            var product = (await Grains.GetGrain<IProductGrain>(sku).GetAsync())!;
            Assert.Equal(paid.SelectMany(o => o.Lines).Where(l => l.Sku == sku).Sum(l => (long)l.Quantity), product.Sold);
            Assert.Equal(500, product.Stock + product.Reserved + product.Sold);
            Assert.Equal(0, product.Reserved);
        }

        var ledger = await PaymentLedger.ReadAsync(fixture.ConnectionString);
        Assert.Equal(
            paid.Select(o => (o.OrderId, o.Total)).Order(),
            ledger.Where(r => r.Approved && !r.Refunded).Select(r => (r.PaymentId, r.Amount)).Order());
    }
}
