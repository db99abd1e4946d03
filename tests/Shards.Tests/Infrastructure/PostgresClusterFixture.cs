using System.Reflection;
using Orleans.TestingHost;
using Shards.Client;
using Shards.Server.Silo;
using Shards.Storage.Postgres;

namespace Shards.Tests.Infrastructure;

/// <summary>
/// An in-process cluster of three silos wired exactly like a real Shards silo (AdoNet clustering, grain storage and
/// reminders on Shards' schema in PostgreSQL), shared by a test collection. In-process clusters see a silo kill at
/// once, so tests on them check behaviour, not detection time.
/// </summary>
public class PostgresClusterFixture : IAsyncLifetime
{
    protected virtual short SiloCount => 3;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public string ConnectionString { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        ConnectionString = await CreateMainDatabaseAsync();
        var storage = await CreateStorageAsync();
        var builder = new InProcessTestClusterBuilder(SiloCount);
        UseRealMembership(builder.Options);
        var cluster = new ShardsClusterOptions { ClusterId = builder.Options.ClusterId, ServiceId = builder.Options.ServiceId };
        builder.ConfigureSilo((_, silo) =>
        {
            silo.ConfigureShardsSilo(ConnectionString, cluster, endpoints: null, storage: storage);
            ConfigureSilo(silo);
        });
        builder.ConfigureClientHost(host => host.AddShardsClient(ConnectionString, cluster));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    /// <summary>
    /// Orleans 10.4.2 keeps <c>UseTestClusterMembership</c> internal; without turning it off the cluster would use
    /// an in-memory membership table instead of PostgreSQL. A test checks that the silos' rows are in PostgreSQL.
    /// </summary>
    private static void UseRealMembership(InProcessTestClusterOptions options)
    {
        var property = typeof(InProcessTestClusterOptions).GetProperty(
            "UseTestClusterMembership", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("InProcessTestClusterOptions.UseTestClusterMembership is gone: revisit the test fixture.");
        property.SetValue(options, false);
    }

    /// <summary>The main database (membership, reminders, and grain state unless <see cref="CreateStorageAsync"/> says otherwise).</summary>
    protected virtual Task<string> CreateMainDatabaseAsync() => TestPostgres.CreateDatabaseAsync("cluster");

    /// <summary>Test settings for every silo, applied after Shards' own wiring (e.g. faster saga retries).</summary>
    protected virtual void ConfigureSilo(ISiloBuilder silo)
    {
    }

    /// <summary>Where grain state goes; null: the main database (<see cref="ConnectionString"/>), as shard <c>main</c>.</summary>
    protected virtual Task<ShardsStorageOptions?> CreateStorageAsync() => Task.FromResult<ShardsStorageOptions?>(null);

    public virtual async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}
