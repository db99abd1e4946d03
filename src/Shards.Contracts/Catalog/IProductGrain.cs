using Shards.Contracts.Common;

namespace Shards.Contracts.Catalog;

/// <summary>What a caller sends to create or change a product.</summary>
[GenerateSerializer, Immutable, Alias("shards.ProductDefinition")]
public sealed record ProductDefinition(
    [property: Id(0)] string Name,
    [property: Id(1)] decimal Price,
    [property: Id(2)] int Stock);

/// <summary>A product as the catalog service shows it.</summary>
/// <param name="Version">Counts the acknowledged writes of this product (1 after creation).</param>
[GenerateSerializer, Immutable, Alias("shards.ProductSnapshot")]
public sealed record ProductSnapshot(
    [property: Id(0)] string Sku,
    [property: Id(1)] string Name,
    [property: Id(2)] decimal Price,
    [property: Id(3)] int Stock,
    [property: Id(4)] long Version);

/// <summary>
/// The catalog service: one grain per product, keyed by SKU. Every change is acknowledged only after it is
/// stored in PostgreSQL; a rejected change (validation, conflict, storage failure) changes nothing.
/// </summary>
[Alias("shards.IProductGrain")]
public interface IProductGrain : IGrainWithStringKey, ILocatableGrain
{
    /// <summary>Creates the product or replaces its name, price and stock.</summary>
    Task<ProductSnapshot> UpsertAsync(ProductDefinition definition);

    /// <summary>The product, or null when it was never created.</summary>
    Task<ProductSnapshot?> GetAsync();

    /// <summary>Takes <paramref name="quantity"/> units out of stock; Conflict when not enough are left.</summary>
    Task<ProductSnapshot> ReserveAsync(int quantity);

    /// <summary>Puts <paramref name="quantity"/> units back into stock.</summary>
    Task<ProductSnapshot> ReleaseAsync(int quantity);
}
