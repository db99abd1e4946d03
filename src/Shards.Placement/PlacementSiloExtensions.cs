using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Shards.Placement;

/// <summary>Registers Shards' consistent-hash placement in a silo.</summary>
public static class PlacementSiloExtensions
{
    /// <summary>
    /// <see cref="ConsistentHashPlacement"/> (selected per grain class with <c>[ConsistentHashPlacement]</c>): its
    /// director, the tracker of local activations and the rebalancer. <paramref name="configure"/> sets the
    /// rebalancer's <see cref="PlacementOptions"/> (e.g. <c>o =&gt; o.BindConfiguration(PlacementOptions.Section)</c>);
    /// they are validated when the silo starts (<see cref="PlacementOptionsValidator"/>).
    /// </summary>
    public static ISiloBuilder AddConsistentHashPlacement(this ISiloBuilder silo, Action<OptionsBuilder<PlacementOptions>>? configure = null)
    {
        silo.AddPlacementDirector<ConsistentHashPlacement, ConsistentHashPlacementDirector>();
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PlacementOptions>, PlacementOptionsValidator>());
        configure?.Invoke(silo.Services.AddOptions<PlacementOptions>().ValidateOnStart());
        silo.Services.AddSingleton<HomeActivations>();
        silo.Services.AddSingleton<IConfigureGrainContextProvider>(services => services.GetRequiredService<HomeActivations>());
        silo.Services.AddSingleton<HomeRebalancer>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<HomeRebalancer>());
        return silo;
    }
}
