using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Shards.Contracts;
using Shards.Storage;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.ExactlyOnce;

/// <summary>
/// One silo wired like a real Shards silo on PostgreSQL, whose catalog and carts storages can lose the answer of a
/// write that committed (<see cref="LostReplyGrainStorage"/>). No clock-skew allowance, so that a request's log row
/// stops being loaded as soon as its deadline passes (the tests then reach the request log in the database).
/// </summary>
public sealed class ExactlyOnceClusterFixture : PostgresClusterFixture
{
    private const string InnerSuffix = "-inner";

    protected override short SiloCount => 1;

    public LostReplyGrainStorage Storage(string storageName) =>
        Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<LostReplyGrainStorage>(storageName);

    public IServiceProvider SiloServices => Cluster.Silos[0].ServiceProvider;

    protected override void ConfigureSilo(ISiloBuilder silo)
    {
        silo.Services.Configure<RequestLogOptions>(o => o.ClockSkewAllowance = TimeSpan.Zero);
        foreach (var name in new[] { StorageNames.Catalog, StorageNames.Carts })
        {
            var real = silo.Services.Last(d => d.ServiceType == typeof(IGrainStorage) && Equals(d.ServiceKey, name));
            silo.Services.Remove(real);
            silo.Services.AddKeyedSingleton<IGrainStorage>(name + InnerSuffix, (services, _) => (IGrainStorage)real.KeyedImplementationFactory!(services, name));
            silo.Services.AddKeyedSingleton(name, (services, key) =>
                new LostReplyGrainStorage(services.GetRequiredKeyedService<IGrainStorage>((string)key! + InnerSuffix)));
            silo.Services.AddKeyedSingleton<IGrainStorage>(name, (services, key) => services.GetRequiredKeyedService<LostReplyGrainStorage>(key));
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ExactlyOnceClusterCollection : ICollectionFixture<ExactlyOnceClusterFixture>
{
    public const string Name = "Shards cluster whose storage loses write answers";
}
