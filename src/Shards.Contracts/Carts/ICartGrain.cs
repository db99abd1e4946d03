using Shards.Contracts.Common;
using Shards.Contracts.Events;

namespace Shards.Contracts.Carts;

/// <summary>One line of a cart. The unit price is the product's price when the line was added or changed.</summary>
[GenerateSerializer, Immutable, Alias("shards.CartLineView")]
public sealed record CartLineView(
    [property: Id(0)] string Sku,
    [property: Id(1)] int Quantity,
    [property: Id(2)] decimal UnitPrice,
    [property: Id(3)] decimal LineTotal);

/// <summary>A cart as the cart service shows it.</summary>
/// <param name="Version">Counts the acknowledged writes of this cart (0 for a cart never written).</param>
/// <param name="CheckoutOrderId">The order checking this cart out: the cart cannot change until it is paid or fails.</param>
/// <param name="PurchasedOrders">The last orders whose <c>purchased</c> emptied this cart, oldest first (each once).</param>
[GenerateSerializer, Immutable, Alias("shards.CartView")]
public sealed record CartView(
    [property: Id(0)] string CartId,
    [property: Id(1)] IReadOnlyList<CartLineView> Lines,
    [property: Id(2)] decimal Total,
    [property: Id(3)] long Version,
    [property: Id(4)] string? CheckoutOrderId = null,
    [property: Id(5)] IReadOnlyList<string>? PurchasedOrders = null);

/// <summary>
/// The cart service: one grain per cart, keyed by cart ID. It asks the catalog for prices through
/// <see cref="Catalog.IProductGrain"/> and never reads the catalog's state directly.
/// </summary>
/// <remarks>
/// The <c>cancellationToken</c> of each method only lets the caller stop waiting: Shards' client cancels the calls in
/// flight when it loses a gateway connection and resends them at once (same request ID), instead of waiting out the
/// response timeout for an answer that a killed silo will never send. The grain finishes a command it has started
/// either way, so the resent command finds it applied and is not applied twice.
/// </remarks>
[Alias("shards.ICartGrain")]
public interface ICartGrain : IGrainWithStringKey, ILocatableGrain, IPurchasedSubscriber
{
    /// <summary>Adds <paramref name="quantity"/> units of a product (NotFound for an unknown SKU).</summary>
    Task<CartView> AddAsync(string sku, int quantity, CancellationToken cancellationToken = default);

    /// <summary>Sets a line's quantity; 0 removes the line.</summary>
    Task<CartView> SetQuantityAsync(string sku, int quantity, CancellationToken cancellationToken = default);

    /// <summary>Removes a line (NotFound when the cart has no such line).</summary>
    Task<CartView> RemoveAsync(string sku, CancellationToken cancellationToken = default);

    /// <summary>The cart with line totals; an empty cart when it was never written.</summary>
    Task<CartView> GetAsync(CancellationToken cancellationToken = default);

    /// <summary>Empties the cart.</summary>
    Task<CartView> ClearAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Locks the cart for order <paramref name="orderId"/> and answers its lines: until the order is paid (its
    /// <c>purchased</c> empties the cart) or cancelled, the cart refuses changes and other checkouts (Conflict), as it
    /// does when it is empty. A repeat for the same order answers the same lines.
    /// </summary>
    Task<CartView> BeginCheckoutAsync(string orderId, CancellationToken cancellationToken = default);

    /// <summary>Unlocks the cart if order <paramref name="orderId"/> holds it (a failed checkout); otherwise nothing. Safe to repeat.</summary>
    Task<CartView> CancelCheckoutAsync(string orderId, CancellationToken cancellationToken = default);
}
