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
[Alias("shards.ICartGrain")]
public interface ICartGrain : IGrainWithStringKey, ILocatableGrain, IPurchasedSubscriber
{
    /// <summary>Adds <paramref name="quantity"/> units of a product (NotFound for an unknown SKU).</summary>
    Task<CartView> AddAsync(string sku, int quantity);

    /// <summary>Sets a line's quantity; 0 removes the line.</summary>
    Task<CartView> SetQuantityAsync(string sku, int quantity);

    /// <summary>Removes a line (NotFound when the cart has no such line).</summary>
    Task<CartView> RemoveAsync(string sku);

    /// <summary>The cart with line totals; an empty cart when it was never written.</summary>
    Task<CartView> GetAsync();

    /// <summary>Empties the cart.</summary>
    Task<CartView> ClearAsync();

    /// <summary>
    /// Locks the cart for order <paramref name="orderId"/> and answers its lines: until the order is paid (its
    /// <c>purchased</c> empties the cart) or cancelled, the cart refuses changes and other checkouts (Conflict), as it
    /// does when it is empty. A repeat for the same order answers the same lines.
    /// </summary>
    Task<CartView> BeginCheckoutAsync(string orderId);

    /// <summary>Unlocks the cart if order <paramref name="orderId"/> holds it (a failed checkout); otherwise nothing. Safe to repeat.</summary>
    Task<CartView> CancelCheckoutAsync(string orderId);
}
