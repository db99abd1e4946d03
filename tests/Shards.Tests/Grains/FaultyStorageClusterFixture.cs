using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Storage;
using Orleans.TestingHost;
using Shards.Contracts;
using Shards.Placement;

namespace Shards.Tests.Grains;

/// <summary>
/// A one-silo cluster whose catalog and carts storages are <see cref="FaultInjectingGrainStorage"/> wrappers over
/// in-memory storage, so tests can make writes fail and can write behind a grain's back.
/// </summary>
public sealed class FaultyStorageClusterFixture : IAsyncLifetime
{
    private const string InnerSuffix = "-inner";

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public FaultInjectingGrainStorage Storage(string storageName) =>
        Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<FaultInjectingGrainStorage>(storageName);

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddConsistentHashPlacement(); // the store grains' placement, as AddShardsSilo registers it
            foreach (var name in new[] { StorageNames.Catalog, StorageNames.Carts })
            {
                silo.AddMemoryGrainStorage(name + InnerSuffix);
                silo.Services.AddKeyedSingleton(name, (services, key) =>
                    new FaultInjectingGrainStorage(services.GetRequiredKeyedService<IGrainStorage>((string)key! + InnerSuffix)));
                silo.Services.AddKeyedSingleton<IGrainStorage>(name, (services, key) =>
                    services.GetRequiredKeyedService<FaultInjectingGrainStorage>(key));
            }
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class FaultyStorageClusterCollection : ICollectionFixture<FaultyStorageClusterFixture>
{
    public const string Name = "Shards cluster with faulty storage";
}
