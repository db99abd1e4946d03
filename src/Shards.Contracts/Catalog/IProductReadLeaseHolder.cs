using Orleans.Services;

namespace Shards.Contracts.Catalog;

/// <summary>
/// A silo's copies of products read under a lease (<see cref="IProductGrain.ReadLeasedAsync"/>), one per silo: a product
/// about to change calls each silo it leased a copy to, and the change waits until that silo dropped the copy (or until
/// its lease ran out, when the silo does not answer).
/// </summary>
[Alias("shards.IProductReadLeaseHolder")]
public interface IProductReadLeaseHolder : IGrainService
{
    /// <summary>Drops this silo's copy of product <paramref name="sku"/>, and any copy of it still on its way here.</summary>
    Task RevokeAsync(string sku);
}
