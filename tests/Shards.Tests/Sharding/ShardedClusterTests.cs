using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;
using Shards.Contracts;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Hashing;
using Shards.Postgres;
using Shards.Storage.Postgres;
using Shards.Storage.Postgres.Sharding;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Sharding;

/// <summary>
/// Two in-process silos whose grain state is sharded over two databases on two PostgreSQL servers (the main database,
/// with membership and the shard map, is a third).
/// </summary>
public sealed class ShardedClusterFixture : PostgresClusterFixture
{
    private ExtraPostgresServer? _secondServer;

    protected override short SiloCount => 2;

    public string S0 { get; private set; } = string.Empty;

    public string S1 { get; private set; } = string.Empty;

    protected override async Task<ShardsStorageOptions?> CreateStorageAsync()
    {
        _secondServer = await ExtraPostgresServer.StartAsync();
        S0 = await TestPostgres.CreateDatabaseAsync("cluster_s0");
        S1 = await _secondServer.CreateDatabaseAsync("cluster_s1");
        return new ShardsStorageOptions
        {
            Shards =
            [
                new ShardOptions { Name = "s0", ConnectionString = S0 },
                new ShardOptions { Name = "s1", ConnectionString = S1 },
            ],
        };
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_secondServer is not null)
        {
            await _secondServer.DisposeAsync();
        }
    }
}

[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ShardedClusterTests(ShardedClusterFixture fixture) : IClassFixture<ShardedClusterFixture>
{
    private static readonly ShardRouter Router = new(["s0", "s1"]);

    [Fact]
    public async Task Products_and_carts_written_through_grains_land_in_both_shards_and_read_back_after_deactivation()
    {
        var grains = fixture.Cluster.Client;
        var skus = Enumerable.Range(1, 30).Select(i => $"sku-sharded-{i}").ToList();
        foreach (var (sku, i) in skus.Select((s, i) => (s, i)))
        {
            await grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition($"Item {i}", 2m + i, 100));
            await grains.GetGrain<ICartGrain>($"cart-sharded-{i}").AddAsync(sku, 1 + (i % 3));
        }

        var serviceId = fixture.Cluster.Options.ServiceId;
        foreach (var (sku, i) in skus.Select((s, i) => (s, i)))
        {
            await AssertStoredInAsync(Router.ShardFor($"product/{sku}"), serviceId, "product", sku);
            await AssertStoredInAsync(Router.ShardFor($"cart/cart-sharded-{i}"), serviceId, "cart", $"cart-sharded-{i}");
        }

        Assert.InRange(await CountAsync(fixture.S0, serviceId), 15, 45);
        Assert.InRange(await CountAsync(fixture.S1, serviceId), 15, 45);
        Assert.Equal(0, await CountAsync(fixture.ConnectionString, serviceId));
        var map = await TestStores.Maps(fixture.ConnectionString).ReadCurrentAsync(serviceId);
        Assert.Equal(1, map?.Version);

        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        foreach (var (sku, i) in skus.Select((s, i) => (s, i)))
        {
            var product = await grains.GetGrain<IProductGrain>(sku).GetAsync();
            Assert.Equal(new ProductSnapshot(sku, $"Item {i}", 2m + i, 100, 1), product);
            var line = Assert.Single((await grains.GetGrain<ICartGrain>($"cart-sharded-{i}").GetAsync()).Lines);
            Assert.Equal(1 + (i % 3), line.Quantity);
        }
    }

    [Fact]
    public async Task Each_silo_has_one_data_source_per_database_shared_by_everything_that_reaches_it()
    {
        // Traffic first: every storage, the map monitor and the pruner have reached their databases by then.
        await fixture.Cluster.Client.GetGrain<IProductGrain>("sku-data-sources").UpsertAsync(new ProductDefinition("Pools", 1m, 1));
        var seen = new List<NpgsqlDataSource>();
        foreach (var silo in fixture.Cluster.Silos)
        {
            var services = silo.ServiceProvider;
            var registry = services.GetRequiredService<PostgresDataSources>();
            var main = services.GetRequiredService<NpgsqlDataSource>();
            var s0 = services.GetRequiredKeyedService<NpgsqlDataSource>("s0");
            var s1 = services.GetRequiredKeyedService<NpgsqlDataSource>("s1");

            Assert.Same(main, services.GetRequiredService<NpgsqlDataSource>());
            Assert.Same(main, registry.For(fixture.ConnectionString));
            Assert.Same(s0, registry.For(fixture.S0));
            Assert.Same(s1, registry.For(fixture.S1));
            Assert.Equal(3, new HashSet<NpgsqlDataSource>([main, s0, s1]).Count);
            foreach (var storageName in StorageNames.All)
            {
                var sharded = Assert.IsType<ShardedGrainStorage>(
                    Assert.IsType<StorageFailureTranslation>(services.GetRequiredKeyedService<IGrainStorage>(storageName)).Inner);
                Assert.Same(s0, DataSourceOf(sharded.Shards["s0"]));
                Assert.Same(s1, DataSourceOf(sharded.Shards["s1"]));
            }

            // Main, s0 and s1: the storages of every storage name, the map, the identities, the pruner and the payment
            // ledger opened no pool of their own.
            Assert.Equal(3, registry.Count);
            seen.AddRange([main, s0, s1]);
        }

        // In-process silos are hosts of their own, each with its registry (a silo process has one).
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    private async Task AssertStoredInAsync(string shard, string serviceId, string state, string key)
    {
        var (expected, other) = shard == "s0" ? (fixture.S0, fixture.S1) : (fixture.S1, fixture.S0);
        Assert.Equal(1, await CountAsync(expected, serviceId, state, key));
        Assert.Equal(0, await CountAsync(other, serviceId, state, key));
    }

    private static Task<long> CountAsync(string connectionString, string serviceId, string? state = null, string? key = null) => Sql.ScalarAsync<long>(
        connectionString,
        """
        SELECT count(*) FROM orleans_storage
         WHERE serviceid = @s AND (@t::text IS NULL OR graintypestring = @t) AND (@k::text IS NULL OR grainidextensionstring = @k)
        """,
        ("s", serviceId), ("t", state), ("k", key));

    private static NpgsqlDataSource DataSourceOf(IGrainStorage shard) => shard switch
    {
        GroupCommitGrainStorage groupCommit => groupCommit.DataSource,
        FencedAdoNetGrainStorage fenced => fenced.DataSource,
        _ => throw new InvalidOperationException($"Unexpected shard storage {shard.GetType().Name}."),
    };
}
