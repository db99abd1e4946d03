using Orleans.Runtime;

namespace Shards.Contracts.Catalog;

/// <summary>
/// How a silo reads a product, for the HTTP API's product GET and for a cart's price: from this silo's leased copy when
/// it has one (<see cref="ProductReplicas"/>, registered by the silo when read leases are on), otherwise from the
/// product's grain, keeping the copy it leases. A copy is as current as the grain (docs/read-leases.md), so either
/// answer is the one the grain would give.
/// </summary>
/// <param name="products">The product grain's reference for a SKU.</param>
/// <param name="holder">This silo: the holder the grain leases copies to.</param>
/// <param name="replicas">This silo's copies; null when read leases are off (every read calls the grain).</param>
public sealed class ProductReads(Func<string, IProductGrain> products, SiloAddress holder, ProductReplicas? replicas)
{
    /// <summary>This silo's current copy of the product, or null: read it with <see cref="ReadAsync"/>.</summary>
    public ProductSnapshot? Cached(string sku) => replicas?.TryRead(sku);

    /// <summary>The product from its grain (null: no such product), leased to this silo when read leases are on.</summary>
    public async Task<ProductSnapshot?> ReadAsync(string sku)
    {
        var product = products(sku);
        if (replicas is null)
        {
            return await product.GetAsync();
        }

        var askedAt = replicas.Asking();
        var leased = await product.ReadLeasedAsync(holder);
        replicas.CountGrainRead();
        if (leased.Product is { } found)
        {
            replicas.Keep(sku, found, leased.Lease, askedAt);
        }

        return leased.Product;
    }

    /// <summary>The copy when there is one, otherwise the grain's answer (<see cref="ReadAsync"/>).</summary>
    public ValueTask<ProductSnapshot?> CurrentAsync(string sku) =>
        Cached(sku) is { } copy ? ValueTask.FromResult<ProductSnapshot?>(copy) : new(ReadAsync(sku));
}
