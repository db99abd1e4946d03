using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Orders;

namespace Shards.Contracts.Listing;

// A page of a listing, in ascending ordinal order of the key. Next is the cursor of the next page (the last key read
// for this one), or null when this page is the last. One record per entity: Orleans' codecs and aliases are per type.

/// <summary>A page of products; <paramref name="Next"/> is the next page's cursor, null on the last page.</summary>
[GenerateSerializer, Immutable, Alias("shards.ProductPage")]
public sealed record ProductPage(
    [property: Id(0)] IReadOnlyList<ProductSnapshot> Items,
    [property: Id(1)] string? Next);

/// <summary>A page of carts; <paramref name="Next"/> is the next page's cursor, null on the last page.</summary>
[GenerateSerializer, Immutable, Alias("shards.CartPage")]
public sealed record CartPage(
    [property: Id(0)] IReadOnlyList<CartView> Items,
    [property: Id(1)] string? Next);

/// <summary>A page of orders; <paramref name="Next"/> is the next page's cursor, null on the last page.</summary>
[GenerateSerializer, Immutable, Alias("shards.OrderPage")]
public sealed record OrderPage(
    [property: Id(0)] IReadOnlyList<OrderView> Items,
    [property: Id(1)] string? Next);

/// <summary>Delivery of one <c>purchased</c> event to one subscriber grain.</summary>
/// <param name="Subscription">The subscribing service's subscription (e.g. <c>carts</c>, <c>catalog</c>).</param>
/// <param name="Subscriber">The grain it goes to, <c>type/key</c>.</param>
/// <param name="Attempts">Deliveries tried so far, the successful one included.</param>
/// <param name="LastError">Why the last failed attempt failed; null when none failed since the event was queued.</param>
[GenerateSerializer, Immutable, Alias("shards.EventDeliveryView")]
public sealed record EventDeliveryView(
    [property: Id(0)] string Subscription,
    [property: Id(1)] string Subscriber,
    [property: Id(2)] bool Delivered,
    [property: Id(3)] int Attempts,
    [property: Id(4)] DateTimeOffset? LastAttemptAt,
    [property: Id(5)] DateTimeOffset? DeliveredAt,
    [property: Id(6)] string? LastError);

/// <summary>A <c>purchased</c> event from the checkout service's outbox, with its deliveries.</summary>
/// <param name="Pending">Deliveries not acknowledged yet.</param>
[GenerateSerializer, Immutable, Alias("shards.PurchasedEventView")]
public sealed record PurchasedEventView(
    [property: Id(0)] string EventId,
    [property: Id(1)] string OrderId,
    [property: Id(2)] string CartId,
    [property: Id(3)] DateTimeOffset PaidAt,
    [property: Id(4)] decimal Total,
    [property: Id(5)] int Lines,
    [property: Id(6)] int Pending,
    [property: Id(7)] IReadOnlyList<EventDeliveryView> Deliveries);

/// <summary>
/// Listing of what the services store, read from the shard databases (every shard of the current shard map), never by
/// activating the grains: products, carts and orders page by key, <c>purchased</c> events by recency. Each item is what
/// storage acknowledged, exactly what the grain's own read would answer. Served by a stateless worker on whichever
/// silo takes the call.
/// </summary>
[Alias("shards.IStoreListingGrain")]
public interface IStoreListingGrain : IGrainWithIntegerKey
{
    /// <summary>Products with a SKU after <paramref name="after"/> (ordinal order), at most <paramref name="limit"/>.</summary>
    Task<ProductPage> ProductsAsync(string? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>Carts ever written, with a cart ID after <paramref name="after"/>, at most <paramref name="limit"/>.</summary>
    Task<CartPage> CartsAsync(string? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>Orders with an order ID after <paramref name="after"/>, at most <paramref name="limit"/>.</summary>
    Task<OrderPage> OrdersAsync(string? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// The last <paramref name="limit"/> <c>purchased</c> events, newest first (by when their order was last written;
    /// an event whose deliveries are still going on comes first), with each delivery's progress.
    /// </summary>
    Task<IReadOnlyList<PurchasedEventView>> RecentEventsAsync(int limit, CancellationToken cancellationToken = default);
}

/// <summary>The bounds of a listing page, shared by the grain, the HTTP API and the CLI.</summary>
public static class ListingLimits
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
    public const int DefaultEvents = 20;
    public const int MaxEvents = 200;

    /// <summary>The single grain key of <see cref="IStoreListingGrain"/> (a stateless worker: every silo runs its own).</summary>
    public const long GrainKey = 0;
}
