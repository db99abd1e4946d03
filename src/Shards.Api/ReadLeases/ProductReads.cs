using Orleans.Runtime;
using Shards.Api.Endpoints;
using Shards.Contracts.Catalog;

namespace Shards.Api.ReadLeases;

/// <summary>
/// How the HTTP API reads a product: from this silo's leased copy when it has one (<see cref="ProductReplicas"/>,
/// registered by the silo when read leases are on), otherwise from the product's grain, keeping the copy it leases.
/// </summary>
internal sealed class ProductReads(IGrainFactory grains, ILocalSiloDetails silo, ProductReplicas? replicas = null)
{
    /// <summary>This silo's current copy of the product, or null: read it with <see cref="ReadAsync"/>.</summary>
    public ProductSnapshot? Cached(string sku) => replicas?.TryRead(sku);

    /// <summary>The product from its grain (null: no such product), leased to this silo when read leases are on.</summary>
    public async Task<ProductSnapshot?> ReadAsync(string sku)
    {
        var product = grains.ByKey<IProductGrain>(sku);
        if (replicas is null)
        {
            return await product.GetAsync();
        }

        replicas.CountGrainRead();
        var askedAt = replicas.Asking();
        var leased = await product.ReadLeasedAsync(silo.SiloAddress);
        if (leased.Product is { } found)
        {
            replicas.Keep(sku, found, leased.Lease, askedAt);
        }

        return leased.Product;
    }
}
