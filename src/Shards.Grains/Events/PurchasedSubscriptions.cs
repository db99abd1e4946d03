using Microsoft.Extensions.DependencyInjection;
using Shards.Contracts.Events;

namespace Shards.Grains.Events;

/// <summary>
/// A service's subscription to <c>purchased</c>: which grain type handles it and which of its grains an event
/// concerns (e.g. the cart of the order, or the product of each line). The publisher delivers each event to
/// <c>GrainType/key</c> for every key of every registered subscription, and never names a subscriber itself.
/// </summary>
/// <param name="Name">Stable name of the subscription (e.g. <c>carts</c>): delivery progress is stored under it.</param>
public sealed record PurchasedSubscription(string Name, GrainType GrainType, Func<PurchasedEvent, IEnumerable<string>> Keys);

/// <summary>The subscription registry: every <see cref="PurchasedSubscription"/> registered in the silo's services.</summary>
public static class PurchasedSubscriptions
{
    /// <summary>Subscribes grains of <paramref name="grainType"/> (which implement <see cref="IPurchasedSubscriber"/>) to <c>purchased</c>.</summary>
    public static IServiceCollection AddPurchasedSubscription(
        this IServiceCollection services, string name, string grainType, Func<PurchasedEvent, IEnumerable<string>> keys)
    {
        services.AddSingleton(new PurchasedSubscription(name, GrainType.Create(grainType), keys));
        return services;
    }
}
