using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Contracts;
using Shards.Contracts.Common;
using Shards.Storage.Postgres.Sharding;
using Shards.Tests.Database;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Sharding;

/// <summary>
/// The stale-map rule: a silo that knows a newer shard map it cannot use, or that could not confirm its map within
/// the lease, refuses to read or write rather than use what may be the wrong shard; it writes again once it routes with
/// the current map.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(TwoServerShardsCollection.Name)]
public sealed class StaleShardMapTests(TwoServerShardsFixture shards) : IDisposable
{
    private const string ProductState = "product";
    private static readonly GrainId Lamp = GrainId.Create("product", "sku-lamp");
    private readonly List<OrleansAdoNetProviders> _providers = [];

    [Fact]
    public async Task A_newer_map_version_naming_an_unknown_shard_refuses_writes_until_a_usable_version_is_loaded()
    {
        var serviceId = NewServiceId();
        var (storage, monitor) = await StorageAsync(serviceId, shards.Main);
        var state = new GrainState<ContractProductState>(new ContractProductState { Name = "Lamp" });
        await storage.WriteStateAsync(ProductState, Lamp, state);

        // A coordinator (here: SQL) publishes version 2 with a shard this silo has no connection string for.
        await PublishAsync(serviceId, 2, "s0", "s1", "s9");
        Assert.False(await monitor.RefreshAsync());

        state.State = new ContractProductState { Name = "Lamp v2" };
        var refused = await Assert.ThrowsAsync<ShardsException>(() => storage.WriteStateAsync(ProductState, Lamp, state));
        Assert.Equal(ShardsErrorCode.StorageUnavailable, refused.Code);
        Assert.Contains("Shard map changed: version 2 exists", refused.Message, StringComparison.Ordinal);
        Assert.Contains("no connection string for s9", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Refusing to write", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ShardsException>(() => storage.ClearStateAsync(ProductState, Lamp, state));
        await Assert.ThrowsAsync<ShardsException>(() => storage.ReadStateAsync(ProductState, Lamp, new GrainState<ContractProductState>()));
        Assert.Equal(1, monitor.Map!.Version);

        // Version 3 names shards it has: the next refresh loads it, and writes go through again.
        await PublishAsync(serviceId, 3, "s1", "s0");
        Assert.True(await monitor.RefreshAsync());
        Assert.Equal(3, monitor.Map!.Version);
        await storage.WriteStateAsync(ProductState, Lamp, state);
        var read = new GrainState<ContractProductState>();
        await storage.ReadStateAsync(ProductState, Lamp, read);
        Assert.Equal("Lamp v2", read.State?.Name);
    }

    [Fact]
    public async Task A_silo_that_cannot_confirm_its_map_within_the_lease_refuses_writes_and_reads_then_recovers()
    {
        var serviceId = NewServiceId();
        var main = await TestPostgres.CreateDatabaseAsync("lease_main"); // its own: this test makes it unreachable
        var period = TimeSpan.FromMilliseconds(200);
        var lease = TimeSpan.FromSeconds(1.5);
        var clock = new WaitSignallingTimeProvider();
        var (storage, _) = await StorageAsync(serviceId, main, refreshPeriod: period, lease: lease, time: clock);
        Assert.Equal(period, await clock.NextWaitAsync()); // the map is loaded (and confirmed now); the refresh loop waits
        var state = new GrainState<ContractProductState>(new ContractProductState { Name = "Lamp" });
        await storage.WriteStateAsync(ProductState, Lamp, state);

        await SetConnectionsAllowedAsync(main, allowed: false);
        try
        {
            // A whole lease passes without a confirmation (the refresh it wakes fails): up to its very end, writes still go through.
            await clock.PassAsync(lease);
            state.State = new ContractProductState { Name = "Lamp v2" };
            await storage.WriteStateAsync(ProductState, Lamp, state);

            // One tick past it, the silo refuses.
            clock.Advance(TimeSpan.FromTicks(1));
            var refused = await Assert.ThrowsAsync<ShardsException>(() => storage.WriteStateAsync(ProductState, Lamp, state));
            Assert.Equal(ShardsErrorCode.StorageUnavailable, refused.Code);
            Assert.Contains("Shard map unconfirmed", refused.Message, StringComparison.Ordinal);
            Assert.Contains("Refusing to write", refused.Message, StringComparison.Ordinal);

            // Reads are refused too: a newer map may have moved the state, and the old shard would answer "no such key".
            var refusedRead = await Assert.ThrowsAsync<ShardsException>(() => storage.ReadStateAsync(ProductState, Lamp, new GrainState<ContractProductState>()));
            Assert.Equal(ShardsErrorCode.StorageUnavailable, refusedRead.Code);
            Assert.Contains("Shard map unconfirmed", refusedRead.Message, StringComparison.Ordinal);
            Assert.Contains("Refusing to read", refusedRead.Message, StringComparison.Ordinal);
        }
        finally
        {
            await SetConnectionsAllowedAsync(main, allowed: true);
        }

        // The next refresh that reaches the main database confirms the map again (its pooled connections were ended,
        // so a refresh may fail once more before one gets through).
        state.State = new ContractProductState { Name = "Lamp v3" };
        await EventuallyAsync(async () =>
        {
            await clock.PassAsync(period);
            try
            {
                await storage.WriteStateAsync(ProductState, Lamp, state);
                return true;
            }
            catch (ShardsException)
            {
                return (bool?)null;
            }
        });
        var after = new GrainState<ContractProductState>();
        await storage.ReadStateAsync(ProductState, Lamp, after);
        Assert.Equal("Lamp v3", after.State?.Name);
    }

    [Fact]
    public async Task A_newer_map_version_with_the_same_shards_is_adopted_without_refusing_anything()
    {
        var serviceId = NewServiceId();
        var (storage, monitor) = await StorageAsync(serviceId, shards.Main);

        await PublishAsync(serviceId, 2, "s0", "s1");
        Assert.True(await monitor.RefreshAsync());

        Assert.Equal(2, monitor.Map!.Version);
        await storage.WriteStateAsync(ProductState, Lamp, new GrainState<ContractProductState>(new ContractProductState { Name = "Lamp" }));
    }

    public void Dispose()
    {
        foreach (var providers in _providers)
        {
            providers.Dispose();
        }
    }

    private async Task<(IGrainStorage Storage, ShardMapMonitor Monitor)> StorageAsync(
        string serviceId, string main, TimeSpan? refreshPeriod = null, TimeSpan? lease = null, TimeProvider? time = null)
    {
        var providers = OrleansAdoNetProviders.ForSilo(main, $"cluster-{serviceId}", serviceId, shards.Storage(refreshPeriod, lease), time);
        _providers.Add(providers);
        var storage = await providers.GrainStorageAsync(StorageNames.Catalog);
        return (storage, providers.Services.GetRequiredService<ShardMapMonitor>());
    }

    /// <summary>Publishes a map version straight into the main database, as a resharding coordinator would.</summary>
    private async Task PublishAsync(string serviceId, int version, params string[] names)
    {
        var current = await TestStores.Maps(shards.Main).ReadCurrentAsync(serviceId);
        var locations = names.Select(name => current?.Document.Find(name) ?? new ShardLocation(name, "127.0.0.1", 5432, $"shards_{name}")).ToList();
        Assert.True(await TestStores.Maps(shards.Main).TryPublishAsync(serviceId, version, current!.Document with { Shards = locations }));
    }

    /// <summary>Stops (or allows again) new connections to a database and ends the open ones: for its users it is down.</summary>
    private static async Task SetConnectionsAllowedAsync(string connectionString, bool allowed)
    {
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false }.ConnectionString;
        await Sql.ExecuteAsync(admin, $"ALTER DATABASE {database} ALLOW_CONNECTIONS {(allowed ? "true" : "false")}");
        if (!allowed)
        {
            await Sql.ExecuteAsync(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @d AND pid <> pg_backend_pid()", ("d", database));
        }
    }

    private static async Task EventuallyAsync(Func<Task<bool?>> attempt)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await attempt() is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(100);
        }
    }

    private static string NewServiceId() => $"stale-{Guid.NewGuid():N}";
}
