using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Hashing;
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
        var map = await ShardMapStore.ReadCurrentAsync(fixture.ConnectionString, serviceId);
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
}
