using Microsoft.Extensions.DependencyInjection;
using Shards.Grains.Events;

namespace Shards.Grains.Catalog;

/// <summary>The catalog service's registrations in a silo.</summary>
public static class CatalogService
{
    /// <summary>The catalog subscribes each product of a purchase to <c>purchased</c>: its reservation becomes sold units.</summary>
    public static IServiceCollection AddCatalogService(this IServiceCollection services) =>
        services.AddPurchasedSubscription("catalog", ProductGrain.TypeName, purchased => purchased.Lines.Select(line => line.Sku));
}
