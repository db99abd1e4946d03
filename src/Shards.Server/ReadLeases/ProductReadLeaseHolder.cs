using Microsoft.Extensions.Logging;
using Shards.Contracts.Catalog;

namespace Shards.Server.ReadLeases;

/// <summary>A silo's <see cref="IProductReadLeaseHolder"/>: drops the copies of <see cref="ProductReplicas"/> that products revoke.</summary>
internal sealed class ProductReadLeaseHolder(GrainId id, Orleans.Runtime.Silo silo, ILoggerFactory loggers, ProductReplicas replicas)
    : GrainService(id, silo, loggers), IProductReadLeaseHolder
{
    public Task RevokeAsync(string sku)
    {
        replicas.Revoke(sku);
        return Task.CompletedTask;
    }
}
