using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Shards.Contracts.Catalog;
using Shards.Grains.Catalog;
using Shards.Server.Lease;

namespace Shards.Server.ReadLeases;

/// <summary>Wires product read leases into a silo (docs/read-leases.md).</summary>
public static class ReadLeaseSiloExtensions
{
    /// <summary>
    /// The silo's copies of products (<see cref="ProductReplicas"/>), the grain service that drops them when a product
    /// revokes them, and what products need to grant and revoke leases. Copies are read only while the silo holds its
    /// majority lease, when it has one.
    /// </summary>
    public static ISiloBuilder AddProductReadLeases(this ISiloBuilder silo, ProductReadLeaseOptions options)
    {
        silo.Services.AddSingleton(options);
        silo.Services.AddSingleton<ProductReadLeaseHolders>();
        silo.Services.AddSingleton<ProductReadLeaseGrants>();
        silo.Services.AddSingleton(services =>
        {
            Func<bool> mayServe = services.GetService<MajorityLease>() is { } lease ? () => lease.IsHeld : static () => true;
            return new ProductReplicas(
                services.GetService<TimeProvider>() ?? TimeProvider.System, mayServe, options.MaxCopiesPerSilo, services.GetService<IMeterFactory>());
        });
        silo.AddGrainService<ProductReadLeaseHolder>();
        return silo;
    }
}
