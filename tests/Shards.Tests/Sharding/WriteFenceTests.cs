using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Contracts;
using Shards.Contracts.Common;
using Shards.Hashing;
using Shards.Storage.Postgres;
using Shards.Storage.Postgres.Resharding;
using Shards.Storage.Postgres.Sharding;
using Shards.Tests.Database;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Sharding;

/// <summary>
/// The write fence of online resharding, kept by each shard database: a write routed by the map before a resharding
/// that reaches its old shard only after the coordinator's scan (it waited in a queue, a pause, anywhere) is refused by
/// that shard, nothing stored, and lands exactly once in the new shard when retried; a write that passed the check
/// before the coordinator closed the shard holds the close off until it commits, so the scan sees it.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(TwoServerShardsCollection.Name)]
public sealed class WriteFenceTests(TwoServerShardsFixture shards) : IDisposable
{
    private const string ProductState = "product";
    private readonly List<OrleansAdoNetProviders> _providers = [];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_write_routed_by_the_old_map_that_arrives_after_the_scan_is_refused_by_the_old_shard_and_lands_once_in_the_new_one(bool groupCommit)
    {
        var serviceId = NewServiceId();
        var s2 = await TestPostgres.CreateDatabaseAsync("fence_s2");
        await SiloAsync(serviceId, Options(groupCommit, ("s0", shards.S0), ("s1", shards.S1))); // map version 1: s0, s1
        var silo = await SiloAsync(serviceId, Options(groupCommit, ("s0", shards.S0), ("s1", shards.S1), ("s2", s2)));
        var sharded = Assert.IsType<ShardedGrainStorage>(Assert.IsType<StorageFailureTranslation>(silo.Storage).Inner);
        Assert.All(sharded.Shards.Values, shard => Assert.IsType(groupCommit ? typeof(GroupCommitGrainStorage) : typeof(FencedAdoNetGrainStorage), shard));
        foreach (var key in Enumerable.Range(0, 40).Select(i => $"sku-fence-{i}"))
        {
            await StaleMapRetry.RunAsync(() => silo.Storage.WriteStateAsync(ProductState, Product(key), new GrainState<ContractProductState>(new ContractProductState { Name = key })));
        }

        // A brand-new key that the resharding gives to s2: under map version 1 it belongs to s0 or s1.
        var before = new ShardRouter(["s0", "s1"]);
        var after = new ShardRouter(["s0", "s1", "s2"]);
        var late = Enumerable.Range(0, 1000).Select(i => $"sku-late-{i}").First(k => after.ShardFor($"product/{k}") == "s2");
        var oldOwner = before.ShardFor($"product/{late}");

        // The same silo's storage, with every write to a shard held after it was routed until the test lets it go:
        // the write is routed by map version 1 and sent to the old shard only after the whole resharding.
        var held = new HeldWrites();
        var holding = new ShardedGrainStorage(
            StorageNames.Catalog, sharded.Map, sharded.Shards.ToDictionary(s => s.Key, s => (IGrainStorage)new HoldingShard(Assert.IsAssignableFrom<IFencedGrainStorage>(s.Value), held)));
        var state = new GrainState<ContractProductState>();
        await StaleMapRetry.RunAsync(() => holding.ReadStateAsync(ProductState, Product(late), state));
        Assert.Null(state.ETag);
        state.State = new ContractProductState { Name = "the late write" };
        held.Arm();
        var write = holding.WriteStateAsync(ProductState, Product(late), state);
        Assert.Equal(1, await held.Routed.Task);

        var result = await new ReshardCoordinator(TestPostgres.DataSources, shards.Main, serviceId, Options(groupCommit, ("s0", shards.S0), ("s1", shards.S1), ("s2", s2)), StateNames.GrainTypes)
            .RunAsync(new ReshardRequest(ReshardOperation.Add, "s2", s2), null, CancellationToken.None);
        Assert.Equal(3, result.TargetVersion);
        Assert.True(result.KeysMoved > 0);
        Assert.Equal(2, await TestStores.Fences.ReadAsync(shards.S0, serviceId, "s0"));
        Assert.Equal(2, await TestStores.Fences.ReadAsync(shards.S1, serviceId, "s1"));
        Assert.Equal(0, await TestStores.Fences.ReadAsync(s2, serviceId, "s2"));

        // Let the write go: the old shard refuses it (it was routed with version 1), stores nothing, and says why.
        held.Release();
        var refused = await Assert.ThrowsAsync<ShardsException>(() => write);
        Assert.Equal(ShardsErrorCode.StorageUnavailable, refused.Code);
        Assert.Contains("Shard map changed", refused.Message, StringComparison.Ordinal);
        Assert.Contains("routed with shard map version 1", refused.Message, StringComparison.Ordinal);
        Assert.Contains("older than version 2", refused.Message, StringComparison.Ordinal);
        Assert.Null(state.ETag);
        Assert.Equal(0, await RowCountAsync(shards.ConnectionStringOf(oldOwner), serviceId, late));

        // The caller's retry is routed by the current map (version 3): the write lands in s2, once. Retried as the
        // client's filter retries a StorageUnavailable answer: the test's 0.6 s map lease can lapse on a busy machine.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                await holding.WriteStateAsync(ProductState, Product(late), state);
                break;
            }
            catch (ShardsException unconfirmed) when (unconfirmed.Code == ShardsErrorCode.StorageUnavailable && unconfirmed.Message.StartsWith("Shard map unconfirmed", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal(1, await RowCountAsync(s2, serviceId, late));
        Assert.Equal(0, await RowCountAsync(shards.S0, serviceId, late) + await RowCountAsync(shards.S1, serviceId, late));
        var verifier = await SiloAsync(serviceId, Options(groupCommit, ("s0", shards.S0), ("s1", shards.S1), ("s2", s2)));
        var read = new GrainState<ContractProductState>();
        await StaleMapRetry.RunAsync(() => verifier.Storage.ReadStateAsync(ProductState, Product(late), read));
        Assert.Equal("the late write", read.State?.Name);
        Assert.Equal(state.ETag, read.ETag);
    }

    [Fact]
    public async Task A_write_that_passed_the_check_holds_off_the_close_until_it_commits_and_older_maps_are_refused_after()
    {
        var serviceId = NewServiceId();
        await SiloAsync(serviceId, Options(groupCommit: true, ("s0", shards.S0), ("s1", shards.S1))); // claims both shards' identities
        await using var writer = new NpgsqlConnection(shards.S0);
        await writer.OpenAsync();
        await using (var transaction = await writer.BeginTransactionAsync())
        {
            // A write in flight, routed with version 1: its transaction passed the check and has not committed yet.
            Assert.Equal(0, await ScalarAsync<int>(writer, $"SELECT shards_write_fence('{serviceId}', 1)"));
            await ScalarAsync<int>(writer, $"""
                INSERT INTO orleans_storage (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring, grainidhash, graintypehash, version)
                VALUES ('{serviceId}', '{ProductState}', 0, 0, 'sku-in-flight', 1, 1, 1) RETURNING version
                """);

            var close = TestStores.Fences.CloseAsync(shards.S0, serviceId, "s0", 2, CancellationToken.None);
            await WaitUntilBlockedAsync(shards.S0, "UPDATE shards_shard_identity");
            Assert.False(close.IsCompleted);
            await transaction.CommitAsync();
            Assert.True(await close);
        }

        // The close returned after the write committed: a scan that starts now sees its row.
        var rows = await TestStores.Rows.ScanAsync(new ShardConnection("s0", shards.S0), serviceId, StateNames.GrainTypes, CancellationToken.None);
        Assert.Equal(["sku-in-flight"], rows.Select(r => r.Key));

        // From now on s0 refuses writes routed with version 1, in the write's own transaction; version 2 passes. s1 is not closed.
        var refused = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync<int>(writer, $"SELECT shards_write_fence('{serviceId}', 1)"));
        Assert.Equal(ShardWriteFence.RefusedState, refused.SqlState);
        Assert.Equal(2, ShardWriteFence.RefusedBelow(refused));
        Assert.Equal(2, await ScalarAsync<int>(writer, $"SELECT shards_write_fence('{serviceId}', 2)"));
        await using var s1 = new NpgsqlConnection(shards.S1);
        await s1.OpenAsync();
        Assert.Equal(0, await ScalarAsync<int>(s1, $"SELECT shards_write_fence('{serviceId}', 1)"));

        // The fence never goes back, and a database that is not a shard of the service cannot be written through it.
        Assert.True(await TestStores.Fences.CloseAsync(shards.S0, serviceId, "s0", 1, CancellationToken.None));
        Assert.Equal(2, await TestStores.Fences.ReadAsync(shards.S0, serviceId, "s0"));
        Assert.False(await TestStores.Fences.CloseAsync(shards.S0, serviceId, "s1", 2, CancellationToken.None));
        var unknown = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync<int>(writer, "SELECT shards_write_fence('no-such-service', 1)"));
        Assert.Equal(ShardWriteFence.NoIdentityState, unknown.SqlState);
    }

    [Fact]
    public async Task Group_commit_refuses_only_the_writes_of_a_batch_that_were_routed_with_a_closed_map()
    {
        var serviceId = NewServiceId();
        var options = Options(groupCommit: true, ("s0", shards.S0));
        options.GroupCommit.Committers = 1;
        options.CommandTimeout = TimeSpan.FromSeconds(20); // the blocked batch waits for the test, not for a timeout
        var silo = await SiloAsync(serviceId, options);
        var storage = Assert.IsType<GroupCommitGrainStorage>(
            Assert.Single(Assert.IsType<ShardedGrainStorage>(Assert.IsType<StorageFailureTranslation>(silo.Storage).Inner).Shards).Value);
        var blocker = new GrainState<ContractProductState>(new ContractProductState { Name = "blocker" });
        await storage.WriteStateAsync(ProductState, Product("sku-blocker"), blocker, 1);
        Assert.True(await TestStores.Fences.CloseAsync(shards.S0, serviceId, "s0", 2, CancellationToken.None));

        // The only committer waits on a row locked by the test, so the next three writes are queued into one batch.
        await using var locker = new NpgsqlConnection(shards.S0);
        await locker.OpenAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await ScalarAsync<int>(locker, $"SELECT version FROM orleans_storage WHERE serviceid = '{serviceId}' AND grainidextensionstring = 'sku-blocker' FOR UPDATE");
        blocker.State = new ContractProductState { Name = "blocker 2" };
        var blocked = storage.WriteStateAsync(ProductState, Product("sku-blocker"), blocker, 2);
        await WaitUntilBlockedAsync(shards.S0, "storage_write");
        var stale = new GrainState<ContractProductState>(new ContractProductState { Name = "stale" });
        var current = new GrainState<ContractProductState>(new ContractProductState { Name = "current" });
        var unrouted = new GrainState<ContractProductState>(new ContractProductState { Name = "unrouted" });
        var writes = new[]
        {
            storage.WriteStateAsync(ProductState, Product("sku-stale"), stale, 1),
            storage.WriteStateAsync(ProductState, Product("sku-current"), current, 2),
            storage.WriteStateAsync(ProductState, Product("sku-unrouted"), unrouted),
        };
        var commitsBefore = storage.Commits;
        await transaction.CommitAsync();
        await blocked;

        var refused = await Assert.ThrowsAsync<ShardsException>(() => writes[0]);
        Assert.Contains("routed with shard map version 1", refused.Message, StringComparison.Ordinal);
        await writes[1];
        await writes[2];
        Assert.Equal(2, storage.Commits - commitsBefore); // the blocked write's, then the batch's without the stale write
        Assert.Equal(0, await RowCountAsync(shards.S0, serviceId, "sku-stale"));
        Assert.Equal(1, await RowCountAsync(shards.S0, serviceId, "sku-current"));
        Assert.Equal(1, await RowCountAsync(shards.S0, serviceId, "sku-unrouted"));
        Assert.Equal("1", current.ETag);
    }

    public void Dispose()
    {
        foreach (var providers in _providers)
        {
            providers.Dispose();
        }
    }

    private async Task<(IGrainStorage Storage, ShardMapMonitor Monitor)> SiloAsync(string serviceId, ShardsStorageOptions options)
    {
        var providers = OrleansAdoNetProviders.ForSilo(shards.Main, $"cluster-{serviceId}", serviceId, options);
        _providers.Add(providers);
        var storage = await providers.GrainStorageAsync(StorageNames.Catalog);
        return (storage, providers.Services.GetRequiredService<ShardMapMonitor>());
    }

    private static ShardsStorageOptions Options(bool groupCommit, params (string Name, string ConnectionString)[] databases) => new()
    {
        Shards = databases.Select(d => new ShardOptions { Name = d.Name, ConnectionString = d.ConnectionString }).ToList(),
        MapRefreshPeriod = TimeSpan.FromMilliseconds(100),
        MapLease = TimeSpan.FromMilliseconds(600),
        CommandTimeout = TimeSpan.FromSeconds(2),
        GroupCommit = { Enabled = groupCommit },
    };

    /// <summary>Waits until a statement containing <paramref name="statement"/> waits for a lock in that database.</summary>
    private static async Task WaitUntilBlockedAsync(string connectionString, string statement)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await Sql.ScalarAsync<long>(
            connectionString,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%' || @q || '%'",
            ("q", statement)) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"'{statement}' never waited for a lock");
            await Task.Delay(20);
        }
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static GrainId Product(string sku) => GrainId.Create("product", sku);

    private static Task<long> RowCountAsync(string connectionString, string serviceId, string key) => Sql.ScalarAsync<long>(
        connectionString, "SELECT count(*) FROM orleans_storage WHERE serviceid = @s AND grainidextensionstring = @k", ("s", serviceId), ("k", key));

    private static string NewServiceId() => $"fence-{Guid.NewGuid():N}";

    /// <summary>A gate for the next write to any shard: it reports the map version the write was routed with, then waits.</summary>
    private sealed class HeldWrites
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _armed;

        public TaskCompletionSource<int> Routed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Arm() => Volatile.Write(ref _armed, 1);

        public void Release() => _released.TrySetResult();

        public async Task PassAsync(int mapVersion)
        {
            if (Interlocked.Exchange(ref _armed, 0) == 1)
            {
                Routed.TrySetResult(mapVersion);
                await _released.Task;
            }
        }
    }

    /// <summary>One shard's real storage, with the next write held between its routing and its SQL (as a long queue or pause would).</summary>
    private sealed class HoldingShard(IFencedGrainStorage inner, HeldWrites held) : IFencedGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion) =>
            inner.ReadStateAsync(stateName, grainId, grainState, mapVersion);

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.WriteStateAsync(stateName, grainId, grainState);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion)
        {
            await held.PassAsync(mapVersion);
            await inner.WriteStateAsync(stateName, grainId, grainState, mapVersion);
        }
    }
}
