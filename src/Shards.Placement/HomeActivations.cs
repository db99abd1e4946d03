using System.Collections.Concurrent;
using Orleans.Metadata;
using Orleans.Runtime;

namespace Shards.Placement;

/// <summary>
/// The activations of consistent-hash placed grains on this silo, kept by joining each such activation's lifecycle
/// (Orleans asks every <see cref="IConfigureGrainContextProvider"/> when it creates an activation): added once it is
/// activated, removed when it deactivates. The rebalancer walks them when the silos change.
/// </summary>
public sealed class HomeActivations : IConfigureGrainContextProvider
{
    private readonly ConcurrentDictionary<GrainId, IGrainContext> _active = new();
    private readonly Configurator _configurator;

    public HomeActivations() => _configurator = new Configurator(this);

    /// <summary>A snapshot of the tracked activations.</summary>
    public IReadOnlyCollection<IGrainContext> Snapshot() => [.. _active.Values];

    public int Count => _active.Count;

    public bool TryGetConfigurator(GrainType grainType, GrainProperties properties, out IConfigureGrainContext configurator)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var placed = properties.Properties.TryGetValue(WellKnownGrainTypeProperties.PlacementStrategy, out var strategy)
            && strategy == nameof(ConsistentHashPlacement);
        configurator = _configurator;
        return placed;
    }

    private sealed class Configurator(HomeActivations owner) : IConfigureGrainContext
    {
        public void Configure(IGrainContext context) =>
            context.ObservableLifecycle.Subscribe(
                nameof(HomeActivations),
                GrainLifecycleStage.Activate,
                _ =>
                {
                    owner._active[context.GrainId] = context;
                    return Task.CompletedTask;
                },
                _ =>
                {
                    owner._active.TryRemove(new KeyValuePair<GrainId, IGrainContext>(context.GrainId, context));
                    return Task.CompletedTask;
                });
    }
}
