using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace Shards.Placement;

/// <summary>Registers Shards' consistent-hash placement in a silo.</summary>
public static class PlacementSiloExtensions
{
    /// <summary>
    /// <see cref="ConsistentHashPlacement"/> (selected per grain class with <c>[ConsistentHashPlacement]</c>): its
    /// director, the tracker of local activations and the rebalancer (<see cref="PlacementOptions"/>, defaults unless
    /// bound to configuration by the host).
    /// </summary>
    public static ISiloBuilder AddConsistentHashPlacement(this ISiloBuilder silo)
    {
        silo.AddPlacementDirector<ConsistentHashPlacement, ConsistentHashPlacementDirector>();
        silo.Services.AddOptions<PlacementOptions>();
        silo.Services.AddSingleton<HomeActivations>();
        silo.Services.AddSingleton<IConfigureGrainContextProvider>(services => services.GetRequiredService<HomeActivations>());
        silo.Services.AddSingleton<HomeRebalancer>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<HomeRebalancer>());
        return silo;
    }
}
