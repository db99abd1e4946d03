using System.Diagnostics.Metrics;
using Shards.Contracts;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Contracts.Listing;
using Shards.Contracts.Orders;
using Shards.Grains.Orders;
using Shards.Hashing;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Sharding;

/// <summary>
/// Listing from the shard databases (<see cref="IStoreListingGrain"/>), on two silos over two shard databases: pages in
/// key order that together hold every key once, read without activating grains; a stale copy of a row in the wrong
/// shard is never shown; purchased events with their deliveries; the checkout metrics.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ListingTests(ShardedClusterFixture fixture) : IClassFixture<ShardedClusterFixture>
{
    private static readonly ShardRouter Router = new(["s0", "s1"]);

    private IStoreListingGrain Listing => fixture.Cluster.Client.GetGrain<IStoreListingGrain>(ListingLimits.GrainKey);

    [Fact]
    public async Task Pages_of_products_hold_every_product_of_both_shards_once_in_ordinal_order_without_activating_them()
    {
        var skus = Enumerable.Range(1, 23).Select(i => $"sku-list-{i}").ToList(); // sku-list-10 sorts before sku-list-2
        foreach (var sku in skus)
        {
            await fixture.Cluster.Client.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition($"Listed {sku}", 1.5m, 10));
        }

        Assert.Contains(skus, s => Router.ShardFor($"product/{s}") == "s0");
        Assert.Contains(skus, s => Router.ShardFor($"product/{s}") == "s1");
        await DeactivateAllAsync();

        var listed = new List<ProductSnapshot>();
        string? after = "sku-list-0"; // before every sku-list-N, after any other test's products
        var pages = 0;
        do
        {
            var page = await Listing.ProductsAsync(after, 5);
            Assert.True(page.Items.Count <= 5);
            listed.AddRange(page.Items.Where(p => p.Sku.StartsWith("sku-list-", StringComparison.Ordinal)));
            after = page.Next;
            pages++;
        }
        while (after is not null && pages < 20);

        Assert.Null(after);
        Assert.Equal(skus.Order(StringComparer.Ordinal), listed.Select(p => p.Sku));
        Assert.All(listed, p => Assert.Equal(($"Listed {p.Sku}", 1.5m, 10), (p.Name, p.Price, p.Stock)));
        Assert.Equal(0, await ActivationsAsync("product"));
    }

    [Fact]
    public async Task A_copy_of_a_row_left_in_the_wrong_shard_is_not_listed_and_the_owners_copy_is()
    {
        var cart = Enumerable.Range(1, 50).Select(i => $"cart-stale-{i}").First(id => Router.ShardFor($"cart/{id}") == "s0");
        await fixture.Cluster.Client.GetGrain<IProductGrain>("sku-stale").UpsertAsync(new ProductDefinition("Stale", 2m, 10));
        await fixture.Cluster.Client.GetGrain<ICartGrain>(cart).AddAsync("sku-stale", 2);

        // What a crash between a move's two commits leaves: the row in both shards. Here the copy in s1 is older (1 unit).
        await fixture.Cluster.Client.GetGrain<ICartGrain>($"{cart}-twin").AddAsync("sku-stale", 1);
        var serviceId = fixture.Cluster.Options.ServiceId;
        var twinShard = Router.ShardFor($"cart/{cart}-twin") == "s0" ? fixture.S0 : fixture.S1;
        var payload = await Sql.ScalarAsync<byte[]>(
            twinShard, "SELECT payloadbinary FROM orleans_storage WHERE serviceid = @s AND graintypestring = 'cart' AND grainidextensionstring = @k",
            ("s", serviceId), ("k", $"{cart}-twin"));
        await Sql.ExecuteAsync(
            fixture.S1,
            """
            INSERT INTO orleans_storage (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring, grainidhash, graintypehash, payloadbinary, version)
            VALUES (@s, 'cart', 0, 0, @k, 1, 1, @p, 1)
            """,
            ("s", serviceId), ("k", cart), ("p", payload));

        var page = await Listing.CartsAsync($"{cart[..^1]}", 50);
        var listed = Assert.Single(page.Items, c => c.CartId == cart);
        Assert.Equal(2, Assert.Single(listed.Lines).Quantity);
    }

    [Fact]
    public async Task A_bad_cursor_or_page_size_is_refused_as_validation()
    {
        var badCursor = await Assert.ThrowsAnyAsync<Exception>(() => Listing.OrdersAsync("not an id", 10));
        Assert.Equal(ShardsErrorCode.Validation, ShardsFailures.Find(badCursor)?.Code);
        Assert.Contains("after", badCursor.Message, StringComparison.Ordinal);
        foreach (var limit in new[] { 0, ListingLimits.MaxLimit + 1 })
        {
            var bad = await Assert.ThrowsAnyAsync<Exception>(() => Listing.ProductsAsync(null, limit));
            Assert.Equal(ShardsErrorCode.Validation, ShardsFailures.Find(bad)?.Code);
        }

        var badEvents = await Assert.ThrowsAnyAsync<Exception>(() => Listing.RecentEventsAsync(ListingLimits.MaxEvents + 1));
        Assert.Equal(ShardsErrorCode.Validation, ShardsFailures.Find(badEvents)?.Code);
    }

    [Fact]
    public async Task A_paid_order_is_listed_its_purchased_event_shows_every_delivery_and_the_checkout_is_counted()
    {
        using var counted = new CheckoutCounts();
        var grains = fixture.Cluster.Client;
        await grains.GetGrain<IProductGrain>("sku-event-1").UpsertAsync(new ProductDefinition("Evented", 3m, 10));
        await grains.GetGrain<ICartGrain>("cart-event-1").AddAsync("sku-event-1", 2);
        var paid = await grains.GetGrain<ICheckoutGrain>("order-event-1").CheckoutAsync("cart-event-1", "tok-visa");
        Assert.Equal(OrderStatus.Paid, paid.Order.Status);
        await grains.GetGrain<ICartGrain>("cart-event-2").AddAsync("sku-event-1", 1);
        var declined = await grains.GetGrain<ICheckoutGrain>("order-event-2").CheckoutAsync("cart-event-2", "tok-decline");
        Assert.Equal(OrderStatus.Failed, declined.Order.Status);

        var orders = (await Listing.OrdersAsync("order-event-0", 10)).Items;
        Assert.Equal(["order-event-1", "order-event-2"], orders.Select(o => o.OrderId).Where(id => id.StartsWith("order-event-", StringComparison.Ordinal)));

        PurchasedEventView? purchased = null;
        for (var i = 0; i < 100 && purchased is not { Pending: 0 }; i++)
        {
            purchased = (await Listing.RecentEventsAsync(ListingLimits.MaxEvents)).SingleOrDefault(e => e.OrderId == "order-event-1");
            await Task.Delay(50);
        }

        Assert.NotNull(purchased);
        Assert.Equal(("cart-event-1", 6m, 1, 0), (purchased.CartId, purchased.Total, purchased.Lines, purchased.Pending));
        Assert.Equal(["cart/cart-event-1", "product/sku-event-1"], purchased.Deliveries.Select(d => d.Subscriber).Order(StringComparer.Ordinal));
        Assert.All(purchased.Deliveries, d => Assert.True(d.Delivered && d.Attempts >= 1 && d.DeliveredAt is not null && d.LastError is null, d.ToString()));
        Assert.DoesNotContain(await Listing.RecentEventsAsync(ListingLimits.MaxEvents), e => e.OrderId == "order-event-2");

        Assert.True(counted.Of(CheckoutMetrics.Started) >= 2, counted.ToString());
        Assert.True(counted.Of(CheckoutMetrics.Paid) >= 1, counted.ToString());
        Assert.True(counted.Of(CheckoutMetrics.Compensated) >= 1, counted.ToString());
        Assert.True(counted.Of(CheckoutMetrics.Failed) >= 1, counted.ToString());
        Assert.True(counted.Of(CheckoutMetrics.Delivered) >= 2, counted.ToString());
    }

    private async Task DeactivateAllAsync()
    {
        var management = fixture.Cluster.Client.GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.Zero);
        for (var i = 0; i < 50 && await ActivationsAsync("product") > 0; i++)
        {
            await Task.Delay(100);
        }
    }

    private async Task<int> ActivationsAsync(string grainType)
    {
        var statistics = await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        return statistics.Where(s => s.GrainType.Contains(grainType == "product" ? "ProductGrain" : grainType, StringComparison.Ordinal)).Sum(s => s.ActivationCount);
    }

    /// <summary>Sums the Shards meter's counters recorded while it is alive, by instrument name.</summary>
    private sealed class CheckoutCounts : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);

        public CheckoutCounts()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ShardsMeter.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                lock (_counts)
                {
                    _counts[instrument.Name] = _counts.GetValueOrDefault(instrument.Name) + value;
                }
            });
            _listener.Start();
        }

        public long Of(string instrument)
        {
            lock (_counts)
            {
                return _counts.GetValueOrDefault(instrument);
            }
        }

        public override string ToString()
        {
            lock (_counts)
            {
                return string.Join(", ", _counts.Select(c => $"{c.Key}={c.Value}"));
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
