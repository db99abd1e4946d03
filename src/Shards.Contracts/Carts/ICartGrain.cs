using Shards.Contracts.Common;

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
[GenerateSerializer, Immutable, Alias("shards.CartView")]
public sealed record CartView(
    [property: Id(0)] string CartId,
    [property: Id(1)] IReadOnlyList<CartLineView> Lines,
    [property: Id(2)] decimal Total,
    [property: Id(3)] long Version);

/// <summary>
/// The cart service: one grain per cart, keyed by cart ID. It asks the catalog for prices through
/// <see cref="Catalog.IProductGrain"/> and never reads the catalog's state directly.
/// </summary>
[Alias("shards.ICartGrain")]
public interface ICartGrain : IGrainWithStringKey, ILocatableGrain
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
}
