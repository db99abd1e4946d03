using Orleans.Concurrency;
using Shards.Contracts;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Contracts.Listing;
using Shards.Contracts.Orders;
using Shards.Domain;
using Shards.Grains.Carts;
using Shards.Grains.Catalog;
using Shards.Grains.Orders;
using Shards.Storage;

namespace Shards.Grains.Listing;

/// <summary>
/// Listings from storage (<see cref="IStoredStateQuery"/>): each stored state becomes the view its grain's own read
/// would answer (the grains' <c>StoredView</c> functions), without activating the grain. A stateless worker: every
/// silo answers from the shard databases itself, and nothing in it is state.
/// </summary>
[StatelessWorker]
[GrainType("store-listing")]
public sealed class StoreListingGrain(IStoredStateQuery query) : Grain, IStoreListingGrain
{
    public async Task<ProductPage> ProductsAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        var rows = await PageAsync<ProductState>(StateNames.Product, after, limit, "SKU", Identifiers.ValidateSku, cancellationToken);
        var (items, next) = Page(rows, limit, row => ProductGrain.StoredSnapshot(row.Key, row.State));
        return new ProductPage(items, next);
    }

    public async Task<CartPage> CartsAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        var rows = await PageAsync<CartState>(StateNames.Cart, after, limit, "cart ID", Identifiers.ValidateCartId, cancellationToken);
        var (items, next) = Page(rows, limit, row => CartGrain.StoredView(row.Key, row.State));
        return new CartPage(items, next);
    }

    public async Task<OrderPage> OrdersAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        var rows = await PageAsync<OrderState>(StateNames.Order, after, limit, "order ID", Identifiers.ValidateOrderId, cancellationToken);
        var (items, next) = Page(rows, limit, row => row.State.Stage == 0 ? null : CheckoutGrain.StoredView(row.Key, row.State));
        return new OrderPage(items, next);
    }

    public async Task<IReadOnlyList<PurchasedEventView>> RecentEventsAsync(int limit, CancellationToken cancellationToken)
    {
        ValidateLimit(limit, ListingLimits.MaxEvents);
        var orders = await query.LatestAsync<OrderState>(
            StateNames.Order, StateNames.GrainTypes[StateNames.Order], limit, order => order.Purchased is not null, cancellationToken);
        return orders.Select(row => EventView(row.State)).ToArray();
    }

    private async Task<IReadOnlyList<StoredState<T>>> PageAsync<T>(
        string stateName, string? after, int limit, string what, Func<string?, string> validate, CancellationToken cancellationToken)
    {
        ValidateLimit(limit, ListingLimits.MaxLimit);
        if (after is not null)
        {
            try
            {
                validate(after);
            }
            catch (DomainRuleException exception)
            {
                throw new ShardsException(ShardsErrorCode.Validation, $"The cursor 'after' must be a {what}: {exception.Message}");
            }
        }

        return await query.ByKeyAsync<T>(stateName, StateNames.GrainTypes[stateName], after, limit, cancellationToken);
    }

    /// <summary>
    /// The page of views; the cursor is the last key read, so a page is never shorter because a row had nothing to
    /// show (a product never defined, an order never started): the next page goes on after it.
    /// </summary>
    private static (TView[] Items, string? Next) Page<TState, TView>(IReadOnlyList<StoredState<TState>> rows, int limit, Func<StoredState<TState>, TView?> view)
        where TView : class =>
        (rows.Select(view).OfType<TView>().ToArray(), rows.Count == limit ? rows[^1].Key : null);

    private static void ValidateLimit(int limit, int max)
    {
        if (limit is < 1 || limit > max)
        {
            throw new ShardsException(ShardsErrorCode.Validation, $"The page size (limit) must be between 1 and {max}; it was {limit}.");
        }
    }

    private static PurchasedEventView EventView(OrderState order)
    {
        var purchased = order.Purchased!;
        return new PurchasedEventView(
            purchased.EventId,
            purchased.OrderId,
            purchased.CartId,
            purchased.PaidAt,
            order.Total,
            purchased.Lines.Count,
            order.Deliveries.Count(d => !d.Acknowledged),
            order.Deliveries
                .Select(d => new EventDeliveryView(d.Subscription, $"{d.GrainType}/{d.Key}", d.Acknowledged, d.Attempts, d.LastAttemptAt, d.AcknowledgedAt, d.LastError))
                .ToArray());
    }
}
