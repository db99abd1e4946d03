using Shards.Contracts.Common;
using Shards.Contracts.Events;

namespace Shards.Contracts.Catalog;

/// <summary>What a caller sends to create or change a product.</summary>
[GenerateSerializer, Immutable, Alias("shards.ProductDefinition")]
public sealed record ProductDefinition(
    [property: Id(0)] string Name,
    [property: Id(1)] decimal Price,
    [property: Id(2)] int Stock);

/// <summary>A product as the catalog service shows it.</summary>
/// <param name="Stock">Units available: neither reserved nor sold.</param>
/// <param name="Version">Counts the acknowledged writes of this product (1 after creation).</param>
/// <param name="Reserved">Units reserved: held by orders being checked out, plus <paramref name="ReservedOutsideOrders"/>.</param>
/// <param name="Sold">Units sold: recorded when <c>purchased</c> reaches the product.</param>
/// <param name="ReservedOutsideOrders">Units taken by the manual reserve command: all that the manual release can give back.</param>
[GenerateSerializer, Immutable, Alias("shards.ProductSnapshot")]
public sealed record ProductSnapshot(
    [property: Id(0)] string Sku,
    [property: Id(1)] string Name,
    [property: Id(2)] decimal Price,
    [property: Id(3)] int Stock,
    [property: Id(4)] long Version,
    [property: Id(5)] int Reserved = 0,
    [property: Id(6)] long Sold = 0,
    [property: Id(7)] int ReservedOutsideOrders = 0);

/// <summary>
/// A product with a read lease (<see cref="IProductGrain.ReadLeasedAsync"/>): the silo that asked may answer reads of
/// <paramref name="Product"/> from memory for <paramref name="Lease"/>, counted from before it asked, unless revoked first.
/// </summary>
/// <param name="Product">The product, or null when it was never created (never leased).</param>
/// <param name="Lease">How long the copy may be read; zero when none was granted (answer this read, keep nothing).</param>
[GenerateSerializer, Immutable, Alias("shards.LeasedProduct")]
public sealed record LeasedProduct(
    [property: Id(0)] ProductSnapshot? Product,
    [property: Id(1)] TimeSpan Lease);

/// <summary>
/// The catalog service: one grain per product, keyed by SKU. Every change is acknowledged only after it is
/// stored in PostgreSQL; a rejected change (validation, conflict, storage failure) changes nothing.
/// </summary>
/// <remarks>
/// The <c>cancellationToken</c> of each method only lets the caller stop waiting: Shards' client cancels the calls in
/// flight when it loses a gateway connection and resends them at once (same request ID), instead of waiting out the
/// response timeout for an answer that a killed silo will never send. The grain finishes a command it has started
/// either way, so the resent command finds it applied and is not applied twice.
/// </remarks>
[Alias("shards.IProductGrain")]
public interface IProductGrain : IGrainWithStringKey, ILocatableGrain, IPurchasedSubscriber
{
    /// <summary>
    /// Creates the product or replaces its name, price and available stock (reserved and sold units are kept);
    /// Conflict when the stock plus the reserved units would pass the maximum stock.
    /// </summary>
    Task<ProductSnapshot> UpsertAsync(ProductDefinition definition, CancellationToken cancellationToken = default);

    /// <summary>The product, or null when it was never created.</summary>
    Task<ProductSnapshot?> GetAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The product, as <see cref="GetAsync"/>, with a read lease for silo <paramref name="holder"/>: until the lease runs
    /// out, the product does not change before that silo has dropped its copy (<see cref="IProductReadLeaseHolder"/>) or
    /// the lease has run out, so reads of the copy are as current as reads of the grain (docs/read-leases.md).
    /// </summary>
    Task<LeasedProduct> ReadLeasedAsync(SiloAddress holder, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes <paramref name="quantity"/> units out of stock outside any order (they count as reserved until
    /// <see cref="ReleaseAsync"/> gives them back); Conflict when not enough are available.
    /// </summary>
    Task<ProductSnapshot> ReserveAsync(int quantity, CancellationToken cancellationToken = default);

    /// <summary>
    /// Puts back <paramref name="quantity"/> of the units <see cref="ReserveAsync"/> took; Conflict (nothing released)
    /// when fewer are reserved outside orders. Units held by an order go back only through <see cref="ReleaseOrderAsync"/>.
    /// </summary>
    Task<ProductSnapshot> ReleaseAsync(int quantity, CancellationToken cancellationToken = default);

    /// <summary>
    /// Holds <paramref name="quantity"/> units for order <paramref name="orderId"/> (Conflict when not enough are
    /// available). Once per order: a repeat, or a reserve after the order's reservation was settled, changes nothing.
    /// The reservation becomes sold units when <c>purchased</c> arrives, or goes back to stock with <see cref="ReleaseOrderAsync"/>.
    /// </summary>
    Task<ProductSnapshot> ReserveForOrderAsync(string orderId, int quantity, CancellationToken cancellationToken = default);

    /// <summary>Puts order <paramref name="orderId"/>'s reservation back into stock; nothing when it holds none. Safe to repeat.</summary>
    Task<ProductSnapshot> ReleaseOrderAsync(string orderId, CancellationToken cancellationToken = default);
}
