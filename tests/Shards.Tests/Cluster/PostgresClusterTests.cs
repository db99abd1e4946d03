using Orleans.TestingHost;
using Shards.Client;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Postgres;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Cluster;

/// <summary>Three in-process silos on Shards' PostgreSQL schema: registry, persistence, reactivation.</summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class PostgresClusterTests(PostgresClusterFixture fixture) : IClassFixture<PostgresClusterFixture>
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task Silos_register_in_the_PostgreSQL_membership_table()
    {
        var rows = await MembershipTableReader.ReadAsync(fixture.ConnectionString, fixture.Cluster.Options.ClusterId);

        Assert.Equal(3, rows.Count(r => r.Status == SiloStatusCode.Active));
        Assert.All(fixture.Cluster.Silos, silo => Assert.Contains(rows, r => r.Port == silo.SiloAddress.Endpoint.Port));
    }

    [Fact]
    public async Task Product_and_cart_state_survive_deactivation()
    {
        var product = Grains.GetGrain<IProductGrain>("sku-survive");
        await product.UpsertAsync(new ProductDefinition("Lamp", 12.50m, 7));
        var cart = Grains.GetGrain<ICartGrain>("cart-survive");
        await cart.AddAsync("sku-survive", 3);
        var firstActivation = (await product.WhereAsync()).ActivatedAt;

        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        Assert.Equal(new ProductSnapshot("sku-survive", "Lamp", 12.50m, 7, 1), await product.GetAsync());
        var view = await cart.GetAsync();
        Assert.Equal(37.50m, view.Total);
        Assert.Equal(1, view.Version);
        Assert.NotEqual(firstActivation, (await product.WhereAsync()).ActivatedAt);
    }

    [Fact]
    public async Task Product_and_cart_with_the_same_key_keep_separate_state()
    {
        await Grains.GetGrain<IProductGrain>("same-key").UpsertAsync(new ProductDefinition("Mug", 3m, 5));
        await Grains.GetGrain<ICartGrain>("same-key").AddAsync("same-key", 2);

        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        Assert.Equal(5, (await Grains.GetGrain<IProductGrain>("same-key").GetAsync())!.Stock);
        Assert.Equal(2, Assert.Single((await Grains.GetGrain<ICartGrain>("same-key").GetAsync()).Lines).Quantity);
    }
}

/// <summary>Its own cluster: the test kills a silo.</summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class SiloKillTests(PostgresClusterFixture fixture) : IClassFixture<PostgresClusterFixture>
{
    [Fact]
    public async Task Grains_of_a_killed_silo_reactivate_on_survivors_with_their_last_acknowledged_state()
    {
        var grains = fixture.Cluster.Client;
        var skus = Enumerable.Range(1, 60).Select(i => $"sku-kill-{i}").ToList();
        foreach (var sku in skus)
        {
            await grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition($"Item {sku}", 2m, 10));
            await grains.GetGrain<IProductGrain>(sku).ReserveAsync(3); // last acknowledged write: stock 7, version 2
        }

        var homes = new Dictionary<string, string>();
        foreach (var sku in skus)
        {
            homes[sku] = (await grains.GetGrain<IProductGrain>(sku).WhereAsync()).Silo;
        }

        // Never the first silo: the test cluster's client and bookkeeping lean on it.
        var victim = fixture.Cluster.Silos.Skip(1).MaxBy(s => homes.Values.Count(h => h == s.SiloAddress.ToString()))!;
        var moved = skus.Where(s => homes[s] == victim.SiloAddress.ToString()).ToList();
        Assert.NotEmpty(moved);

        await fixture.Cluster.KillSiloAsync(victim);

        // No retry loop here: the client's retry filter hides the kill from the caller.
        foreach (var sku in skus)
        {
            Assert.Equal(new ProductSnapshot(sku, $"Item {sku}", 2m, 7, 2, Reserved: 3, ReservedOutsideOrders: 3), await grains.GetGrain<IProductGrain>(sku).GetAsync());
        }

        foreach (var sku in moved)
        {
            Assert.NotEqual(victim.SiloAddress.ToString(), (await grains.GetGrain<IProductGrain>(sku).WhereAsync()).Silo);
        }

        // A write after the kill is applied once, whatever the client re-sent while the cluster recovered.
        Assert.Equal(6, (await grains.GetGrain<IProductGrain>(moved[0]).ReserveAsync(1)).Stock);
    }
}

/// <summary>Its own cluster: the test breaks the storage table underneath it.</summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class StorageOutageTests(PostgresClusterFixture fixture) : IClassFixture<PostgresClusterFixture>
{
    [Fact]
    public async Task A_storage_failure_while_a_grain_loads_reaches_the_caller_as_a_clear_ShardsException_and_heals()
    {
        var grains = fixture.Cluster.Client;
        await RenameStorageTableAsync("orleans_storage", "orleans_storage_away");
        try
        {
            // Orleans wraps an activation-time storage failure; inside is Shards' serialisable error, not a
            // CodecNotFoundException for Npgsql's exception.
            var thrown = await Assert.ThrowsAnyAsync<Exception>(() => grains.GetGrain<IProductGrain>("sku-outage").GetAsync());
            var error = ShardsFailures.Find(thrown);
            Assert.NotNull(error);
            Assert.Equal(Shards.Contracts.Common.ShardsErrorCode.StorageUnavailable, error.Code);
            Assert.Contains("Could not read", error.Message, StringComparison.Ordinal);
            Assert.Contains("orleans_storage", error.Message, StringComparison.Ordinal);
            Assert.Contains("Nothing changed", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await RenameStorageTableAsync("orleans_storage_away", "orleans_storage");
        }

        var created = await ClusterCallRetry.RunAsync(
            () => grains.GetGrain<IProductGrain>("sku-outage").UpsertAsync(new ProductDefinition("Back", 1m, 1)), TimeSpan.FromSeconds(30));
        Assert.Equal(1, created.Version);
    }

    private async Task RenameStorageTableAsync(string from, string to)
    {
        await using var connection = new Npgsql.NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"ALTER TABLE {from} RENAME TO {to}", connection);
        await command.ExecuteNonQueryAsync();
    }
}
