using System.Collections.Concurrent;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Contracts.Orders;

namespace Shards.Tests.Checkout;

/// <summary>
/// Its own cluster. A burst of checkouts while silos are killed (and one added): afterwards every order is Paid or
/// Failed, every paid order's cart was emptied exactly once by its <c>purchased</c>, every product's sold count is the
/// sum over paid orders, no unit was lost (stock + reserved + sold is conserved), and the ledger charged each paid
/// order once and kept nothing of a failed one.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class CheckoutChaosTests(CheckoutChaosFixture fixture) : IClassFixture<CheckoutChaosFixture>
{
    private const int Products = 12;
    private const int Orders = 90;
    private const int InitialStock = 1_000;
    private const int Workers = 12;
    private static readonly TimeSpan s_bound = TimeSpan.FromMinutes(2);

    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task Silos_killed_during_a_burst_of_checkouts_lose_no_purchase_and_repeat_none()
    {
        var deadline = DateTime.UtcNow + s_bound;
        var random = new Random(20261124);
        var skus = Enumerable.Range(1, Products).Select(i => $"sku-chaos-{i:00}").ToArray();
        foreach (var sku in skus)
        {
            await Grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition($"Chaos {sku}", 3m, InitialStock));
        }

        var orders = new List<(string OrderId, string CartId, string Token)>();
        for (var i = 1; i <= Orders; i++)
        {
            var cart = $"cart-chaos-{i:000}";
            foreach (var sku in skus.OrderBy(_ => random.Next()).Take(random.Next(1, 4)))
            {
                await Grains.GetGrain<ICartGrain>(cart).AddAsync(sku, random.Next(1, 4));
            }

            var token = (i % 10) switch { 3 => "tok-decline", 7 => "tok-timeout", _ => "tok-visa" };
            orders.Add(($"order-chaos-{i:000}", cart, token));
        }

        // The burst: workers take orders in turn, each retried under the same order ID until it has an outcome.
        var outcomes = new ConcurrentDictionary<string, OrderView>();
        var queue = new ConcurrentQueue<(string OrderId, string CartId, string Token)>(orders);
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            while (queue.TryDequeue(out var order))
            {
                outcomes[order.OrderId] = await OrderClient.CheckoutUntilDecidedAsync(Grains, order.OrderId, order.CartId, order.Token, deadline, TimeSpan.FromMilliseconds(50));
            }
        })).ToArray();

        var chaos = Task.Run(async () =>
        {
            await WaitForAsync(() => outcomes.Count >= Orders / 5, deadline);
            await fixture.Cluster.KillSiloAsync(fixture.Cluster.Silos[2]);
            await fixture.Cluster.StartAdditionalSiloAsync();
            await WaitForAsync(() => outcomes.Count >= Orders / 2, deadline);
            await fixture.Cluster.KillSiloAsync(fixture.Cluster.Silos[1]);
        });
        await Task.WhenAll([.. workers, chaos]);

        // Every paid order's purchased reaches its subscribers (at least once) without anyone asking for it again.
        var final = new Dictionary<string, OrderView>();
        foreach (var (orderId, _, _) in orders)
        {
            final[orderId] = await OrderClient.PollUntilSettledAsync(Grains, orderId, deadline);
        }

        var paid = final.Values.Where(o => o.Status == OrderStatus.Paid).ToList();
        var failed = final.Values.Where(o => o.Status == OrderStatus.Failed).ToList();
        Assert.Equal(Orders, paid.Count + failed.Count);
        Assert.All(paid, o => Assert.Equal(CheckoutStage.Completed, o.Stage));
        Assert.All(failed, o => Assert.Equal(CheckoutStage.Failed, o.Stage));
        Assert.Equal(orders.Where(o => o.Token == "tok-visa").Select(o => o.OrderId).Order(), paid.Select(o => o.OrderId).Order());

        foreach (var order in paid)
        {
            var cart = await Grains.GetGrain<ICartGrain>(order.CartId).GetAsync();
            Assert.Empty(cart.Lines);
            Assert.Null(cart.CheckoutOrderId);
            Assert.Equal([order.OrderId], cart.PurchasedOrders); // emptied exactly once, by this order
        }

        foreach (var order in failed)
        {
            var cart = await Grains.GetGrain<ICartGrain>(order.CartId).GetAsync();
            Assert.Equal(order.Lines.Count, cart.Lines.Count);
            Assert.Null(cart.CheckoutOrderId);
            Assert.Empty(cart.PurchasedOrders!);
        }

        foreach (var sku in skus)
        {
            var product = (await Grains.GetGrain<IProductGrain>(sku).GetAsync())!;
            var soldToPaid = paid.SelectMany(o => o.Lines).Where(l => l.Sku == sku).Sum(l => (long)l.Quantity);
            Assert.Equal(soldToPaid, product.Sold);
            Assert.Equal(0, product.Reserved);
            Assert.Equal(InitialStock, product.Stock + product.Reserved + product.Sold);
        }

        var ledger = await PaymentLedger.ReadAsync(fixture.ConnectionString);
        var kept = ledger.Where(r => r.Approved && !r.Refunded).ToDictionary(r => r.PaymentId, r => r.Amount);
        Assert.Equal(paid.ToDictionary(o => o.OrderId, o => o.Total).OrderBy(p => p.Key), kept.OrderBy(p => p.Key));
    }

    private static async Task WaitForAsync(Func<bool> condition, DateTime deadline)
    {
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }
}
