namespace Shards.Grains.Catalog;

/// <summary>
/// What the catalog stores per product (the SKU is the grain key). <see cref="Version"/> counts acknowledged
/// writes: 0 means the product was never created. Treated as immutable: grains build a new instance per change.
/// </summary>
[GenerateSerializer, Alias("shards.ProductState")]
public sealed class ProductState
{
    [Id(0)]
    public string Name { get; init; } = "";

    [Id(1)]
    public decimal Price { get; init; }

    [Id(2)]
    public int Stock { get; init; }

    [Id(3)]
    public long Version { get; init; }

    /// <summary>IDs of the last commands applied, stored with the change (see RequestDeduplication).</summary>
    [Id(4)]
    public Guid[] AppliedRequests { get; init; } = [];
}
