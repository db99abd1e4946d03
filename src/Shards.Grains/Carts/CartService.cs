using Microsoft.Extensions.DependencyInjection;
using Shards.Grains.Events;

namespace Shards.Grains.Carts;

/// <summary>The cart service's registrations in a silo.</summary>
public static class CartService
{
    /// <summary>The cart service subscribes the purchased cart to <c>purchased</c>: it is emptied and unlocked.</summary>
    public static IServiceCollection AddCartService(this IServiceCollection services) =>
        services.AddPurchasedSubscription("carts", CartGrain.TypeName, purchased => [purchased.CartId]);
}
