using Orleans.Hosting;
using Orleans.TestingHost;
using Shards.Contracts;
using Shards.Placement;

namespace Shards.Tests.Grains;

/// <summary>A two-silo in-process cluster with in-memory grain storage, deployed once for the collection.</summary>
public sealed class ShardsClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddConsistentHashPlacement(); // the store grains' placement, as AddShardsSilo registers it
            silo.AddMemoryGrainStorage(StorageNames.Catalog);
            silo.AddMemoryGrainStorage(StorageNames.Carts);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ShardsClusterCollection : ICollectionFixture<ShardsClusterFixture>
{
    public const string Name = "Shards cluster";
}
