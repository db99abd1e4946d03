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
/// A resharding's moving map against a silo still on the map before it: a new key created under the moving map is
/// never created a second time, in another shard, by the silo on the old map (which reads only the old shard), nor is
/// it read as missing there; the coordinator's copy never overwrites a newer row in the new shard; and a grain's
/// request-log rows move with its state row.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(TwoServerShardsCollection.Name)]
public sealed class MovingMapTests(TwoServerShardsFixture shards) : IDisposable
{
    private const string ProductState = "product";
    private readonly List<OrleansAdoNetProviders> _providers = [];

    private TwoServerShardsFixture Fixture => shards;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_new_key_written_under_the_moving_map_is_seen_by_a_silo_still_on_the_old_map_and_survives_the_move(bool groupCommit)
    {
        var race = await MovingMapPublishedAsync(groupCommit);

        // Under the moving map, the new key is created where a silo still on the old map looks for it.
        var first = new GrainState<ContractProductState>();
        await race.Moving.Storage.ReadStateAsync(ProductState, race.Grain, first);
        Assert.Null(first.ETag);
        first.State = new ContractProductState { Name = "from the moving map" };
        await race.Moving.Storage.WriteStateAsync(ProductState, race.Grain, first);

        // The silo on the old map activates the key (it reads only the old shard): it sees that acknowledged write and
        // writes on top of it, instead of creating the key a second time in the old shard.
        var second = new GrainState<ContractProductState>();
        await race.Old.Storage.ReadStateAsync(ProductState, race.Grain, second);
        Assert.Equal("from the moving map", second.State?.Name);
        second.State = new ContractProductState { Name = "from the old map, after it" };
        await race.Old.Storage.WriteStateAsync(ProductState, race.Grain, second);

        await race.FinishAsync();
        Assert.Equal(["s2"], await ShardsHoldingAsync(race, race.Key));
        Assert.Equal("from the old map, after it", (await race.ReadAfterAsync(race.Key)).State?.Name);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Once_the_old_shards_are_closed_a_silo_on_the_old_map_is_refused_reads_refreshes_at_once_and_then_reads_the_new_shard(bool groupCommit)
    {
        var race = await MovingMapPublishedAsync(groupCommit);
        await race.CloseOldShardsAsync();

        // The old shard is closed: the new key is created in the new shard.
        var first = new GrainState<ContractProductState>();
        await race.Moving.Storage.ReadStateAsync(ProductState, race.Grain, first);
        first.State = new ContractProductState { Name = "from the moving map" };
        await race.Moving.Storage.WriteStateAsync(ProductState, race.Grain, first);
        Assert.Equal(["s2"], await ShardsHoldingAsync(race, race.Key));

        // A silo still on the old map must not answer "no such key" from the old shard: the shard refuses the read, and
        // the silo reads the current map at once (its own refresh is an hour away), so the caller's retry finds the key.
        var refused = await Assert.ThrowsAsync<ShardsException>(() => race.Old.Storage.ReadStateAsync(ProductState, race.Grain, new GrainState<ContractProductState>()));
        Assert.Equal(ShardsErrorCode.StorageUnavailable, refused.Code);
        Assert.Contains("Shard map changed", refused.Message, StringComparison.Ordinal);
        Assert.Contains("refused to read", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, race.Old.Monitor.Map!.Version);
        var retried = new GrainState<ContractProductState>();
        await race.Old.Storage.ReadStateAsync(ProductState, race.Grain, retried);
        Assert.Equal("from the moving map", retried.State?.Name);
        Assert.Equal(first.ETag, retried.ETag);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_key_the_old_map_created_before_the_close_is_not_created_again_in_the_new_shard_after_it(bool groupCommit)
    {
        var race = await MovingMapPublishedAsync(groupCommit);

        // Both silos find no row; the silo on the old map creates the key first, in the old shard, before the close.
        var fromOld = new GrainState<ContractProductState>();
        await race.Old.Storage.ReadStateAsync(ProductState, race.Grain, fromOld);
        var fromMoving = new GrainState<ContractProductState>();
        await race.Moving.Storage.ReadStateAsync(ProductState, race.Grain, fromMoving);
        Assert.Null(fromMoving.ETag);
        fromOld.State = new ContractProductState { Name = "from the old map" };
        await race.Old.Storage.WriteStateAsync(ProductState, race.Grain, fromOld);

        // After the close, the moving map's silo also believes the key is new: its write is a version conflict (the grain
        // reloads), not a second row in the new shard that the move would then overwrite or be shadowed by.
        await race.CloseOldShardsAsync();
        fromMoving.State = new ContractProductState { Name = "from the moving map, without seeing it" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => race.Moving.Storage.WriteStateAsync(ProductState, race.Grain, fromMoving));
        Assert.Equal([race.OldOwner], await ShardsHoldingAsync(race, race.Key));

        await race.Moving.Storage.ReadStateAsync(ProductState, race.Grain, fromMoving);
        Assert.Equal("from the old map", fromMoving.State?.Name);
        fromMoving.State = new ContractProductState { Name = "from the moving map, on top of it" };
        await race.Moving.Storage.WriteStateAsync(ProductState, race.Grain, fromMoving);

        await race.FinishAsync();
        Assert.Equal(["s2"], await ShardsHoldingAsync(race, race.Key));
        Assert.Equal("from the moving map, on top of it", (await race.ReadAfterAsync(race.Key)).State?.Name);
    }

    [Fact]
    public async Task Moving_rows_never_overwrites_a_newer_row_already_in_the_target_shard()
    {
        var serviceId = NewServiceId();
        var from = new ShardConnection("s0", shards.S0);
        var to = new ShardConnection("s1", shards.S1);
        await InsertRowAsync(shards.S0, serviceId, "sku-target-newer", version: 3, "old shard v3");
        await InsertRowAsync(shards.S1, serviceId, "sku-target-newer", version: 7, "new shard v7, acknowledged");
        await InsertRowAsync(shards.S0, serviceId, "sku-target-older", version: 5, "old shard v5");
        await InsertRowAsync(shards.S1, serviceId, "sku-target-older", version: 2, "stale copy v2");
        await InsertRowAsync(shards.S0, serviceId, "sku-target-empty", version: 4, "old shard v4");

        var keys = (await TestStores.Rows.ScanAsync(from, serviceId, StateNames.GrainTypes, CancellationToken.None)).OrderBy(k => k.Key, StringComparer.Ordinal).ToList();
        Assert.Equal(3, await TestStores.Rows.MoveAsync(from, to, serviceId, keys, CancellationToken.None));

        Assert.Empty(await TestStores.Rows.ScanAsync(from, serviceId, StateNames.GrainTypes, CancellationToken.None));
        Assert.Equal((7, "new shard v7, acknowledged"), await RowAsync(shards.S1, serviceId, "sku-target-newer"));
        Assert.Equal((5, "old shard v5"), await RowAsync(shards.S1, serviceId, "sku-target-older"));
        Assert.Equal((4, "old shard v4"), await RowAsync(shards.S1, serviceId, "sku-target-empty"));
    }

    [Fact]
    public async Task A_grains_request_log_rows_move_with_its_state_and_leave_the_old_shard()
    {
        var serviceId = NewServiceId();
        var s2 = await TestPostgres.CreateDatabaseAsync("log_s2");
        var all = Options(("s0", shards.S0), ("s1", shards.S1), ("s2", s2));
        await SiloAsync(serviceId, Options(("s0", shards.S0), ("s1", shards.S1))); // map version 1: s0, s1
        var silo = await SiloAsync(serviceId, all);
        var before = new ShardRouter(["s0", "s1"]);
        var after = new ShardRouter(["s0", "s1", "s2"]);
        var keys = Enumerable.Range(0, 60).Select(i => $"sku-log-{i}").ToList();
        var moving = keys.Where(k => after.ShardFor($"product/{k}") == "s2").Take(3).ToList();
        var staying = keys.First(k => after.ShardFor($"product/{k}") == before.ShardFor($"product/{k}"));
        foreach (var key in moving.Append(staying))
        {
            await silo.Storage.WriteStateAsync(ProductState, Product(key), new GrainState<ContractProductState>(new ContractProductState { Name = key }));
        }

        // Two logged requests per key in its shard; one of them is already in the new shard (a copy must not fail on it).
        var requests = new Dictionary<string, Guid[]>(StringComparer.Ordinal);
        foreach (var key in moving.Append(staying))
        {
            requests[key] = [Guid.NewGuid(), Guid.NewGuid()];
            foreach (var request in requests[key])
            {
                var home = shards.ConnectionStringOf(before.ShardFor($"product/{key}"));
                await InsertLogRowAsync(home, home, serviceId, key, request);
            }
        }

        await InsertLogRowAsync(s2, shards.ConnectionStringOf(before.ShardFor($"product/{moving[0]}")), serviceId, moving[0], requests[moving[0]][0]);
        var result = await new ReshardCoordinator(TestPostgres.DataSources, shards.Main, serviceId, CoordinatorOptions(("s0", shards.S0), ("s1", shards.S1), ("s2", s2)), StateNames.GrainTypes).RunAsync(new ReshardRequest(ReshardOperation.Add, "s2", s2), null, CancellationToken.None);
        Assert.True(result.KeysMoved >= moving.Count);

        foreach (var key in moving)
        {
            Assert.Equal(requests[key].Order(), await LoggedRequestsAsync(s2, serviceId, key));
            Assert.Empty(await LoggedRequestsAsync(shards.ConnectionStringOf(before.ShardFor($"product/{key}")), serviceId, key));
        }

        Assert.Equal(requests[staying].Order(), await LoggedRequestsAsync(shards.ConnectionStringOf(before.ShardFor($"product/{staying}")), serviceId, staying));
        Assert.Empty(await LoggedRequestsAsync(s2, serviceId, staying));
    }

    public void Dispose()
    {
        foreach (var providers in _providers)
        {
            providers.Dispose();
        }
    }

    /// <summary>
    /// Map version 1 (s0, s1) and two silos' storages (with group commit or without), both able to reach s2, that never
    /// refresh on their own: one on version 1, one that has adopted version 2, a moving map adding s2 that the test
    /// published as a coordinator does. The key is new and moves from its old shard to s2.
    /// </summary>
    private async Task<Race> MovingMapPublishedAsync(bool groupCommit)
    {
        var serviceId = NewServiceId();
        var s2 = await TestPostgres.CreateDatabaseAsync("race_s2");
        await SiloAsync(serviceId, Options(("s0", shards.S0), ("s1", shards.S1))); // map version 1: s0, s1
        var oldSilo = await SiloAsync(serviceId, WithGroupCommit(Options(("s0", shards.S0), ("s1", shards.S1), ("s2", s2)), groupCommit));
        var movingSilo = await SiloAsync(serviceId, WithGroupCommit(Options(("s0", shards.S0), ("s1", shards.S1), ("s2", s2)), groupCommit));
        var v1 = (await TestStores.Maps(shards.Main).ReadCurrentAsync(serviceId))!;
        var moving = v1.Document with
        {
            Algorithm = ShardMapDocument.MovingAlgorithm,
            Target = [.. v1.Document.Shards, new ShardConnection("s2", s2).Location()],
        };
        var request = new ReshardRequest(ReshardOperation.Add, "s2", s2);
        Assert.True(await TestStores.Resharding(shards.Main).TryBeginAsync(serviceId, request, 1, 2, moving, CancellationToken.None));
        Assert.True(await movingSilo.Monitor.RefreshAsync());
        Assert.Equal(2, movingSilo.Monitor.Map!.Version);
        Assert.Equal(1, oldSilo.Monitor.Map!.Version);

        var before = new ShardRouter(["s0", "s1"]);
        var after = new ShardRouter(["s0", "s1", "s2"]);
        var key = Enumerable.Range(0, 1000).Select(i => $"sku-race-{i}").First(k => after.ShardFor($"product/{k}") == "s2");
        return new Race(this, serviceId, s2, request, oldSilo, movingSilo, key, before.ShardFor($"product/{key}"));
    }

    private sealed record Race(
        MovingMapTests Test, string ServiceId, string S2, ReshardRequest Request, Silo Old, Silo Moving, string Key, string OldOwner)
    {
        public GrainId Grain => Product(Key);

        public IEnumerable<(string Name, string ConnectionString)> Databases => [("s0", Test.Fixture.S0), ("s1", Test.Fixture.S1), ("s2", S2)];

        /// <summary>What the coordinator does after its timed wait: closes every shard of the old ring to map versions before 2.</summary>
        public async Task CloseOldShardsAsync()
        {
            Assert.True(await TestStores.Fences.CloseAsync(Test.Fixture.S0, ServiceId, "s0", 2, CancellationToken.None));
            Assert.True(await TestStores.Fences.CloseAsync(Test.Fixture.S1, ServiceId, "s1", 2, CancellationToken.None));
        }

        /// <summary>The coordinator resumes the resharding the test began: closes the old shards, moves the rows, publishes version 3.</summary>
        public async Task FinishAsync()
        {
            var result = await new ReshardCoordinator(TestPostgres.DataSources, Test.Fixture.Main, ServiceId, CoordinatorOptions([.. Databases]), StateNames.GrainTypes).RunAsync(Request, null, CancellationToken.None);
            Assert.True(result.Resumed);
            Assert.Equal(3, result.TargetVersion);
        }

        /// <summary>The state as a silo that starts after the resharding reads it.</summary>
        public async Task<GrainState<ContractProductState>> ReadAfterAsync(string key)
        {
            var verifier = await Test.SiloAsync(ServiceId, Options([.. Databases]));
            var state = new GrainState<ContractProductState>();
            await verifier.Storage.ReadStateAsync(ProductState, Product(key), state);
            return state;
        }
    }

    private sealed record Silo(IGrainStorage Storage, ShardMapMonitor Monitor);

    private async Task<Silo> SiloAsync(string serviceId, ShardsStorageOptions options)
    {
        var providers = OrleansAdoNetProviders.ForSilo(shards.Main, $"cluster-{serviceId}", serviceId, options);
        _providers.Add(providers);
        var storage = await providers.GrainStorageAsync(StorageNames.Catalog);
        return new Silo(storage, providers.Services.GetRequiredService<ShardMapMonitor>());
    }

    /// <summary>The silos' maps are refreshed only when a test (or a refusal) asks; the coordinator's fence is short.</summary>
    private static ShardsStorageOptions Options(params (string Name, string ConnectionString)[] databases) => new()
    {
        Shards = databases.Select(d => new ShardOptions { Name = d.Name, ConnectionString = d.ConnectionString }).ToList(),
        MapRefreshPeriod = TimeSpan.FromHours(1),
        MapLease = TimeSpan.FromHours(2),
        CommandTimeout = TimeSpan.FromSeconds(2),
    };

    private static ShardsStorageOptions WithGroupCommit(ShardsStorageOptions options, bool groupCommit)
    {
        options.GroupCommit.Enabled = groupCommit;
        return options;
    }

    /// <summary>The coordinator's fence is the silos' lease + refresh period + command timeout: short here, to keep the tests short.</summary>
    private static ShardsStorageOptions CoordinatorOptions(params (string Name, string ConnectionString)[] databases)
    {
        var options = Options(databases);
        options.MapRefreshPeriod = TimeSpan.FromMilliseconds(100);
        options.MapLease = TimeSpan.FromMilliseconds(600);
        return options;
    }

    private static async Task<List<string>> ShardsHoldingAsync(Race race, string key)
    {
        var holding = new List<string>();
        foreach (var (name, connectionString) in race.Databases)
        {
            if (await Sql.ScalarAsync<long>(
                    connectionString,
                    "SELECT count(*) FROM orleans_storage WHERE serviceid = @s AND grainidextensionstring = @k",
                    ("s", race.ServiceId), ("k", key)) > 0)
            {
                holding.Add(name);
            }
        }

        return holding;
    }

    private static Task InsertRowAsync(string connectionString, string serviceId, string key, int version, string payload) => Sql.ExecuteAsync(
        connectionString,
        """
        INSERT INTO orleans_storage (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring, grainidhash, graintypehash, payloadbinary, version, modifiedon)
        VALUES (@s, 'product', 0, 0, @k, 1, 2, convert_to(@p, 'UTF8'), @v, now())
        """,
        ("s", serviceId), ("k", key), ("p", payload), ("v", version));

    private static async Task<(int Version, string Payload)> RowAsync(string connectionString, string serviceId, string key)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT version, convert_from(payloadbinary, 'UTF8') FROM orleans_storage WHERE serviceid = @s AND grainidextensionstring = @k", connection);
        command.Parameters.AddWithValue("s", serviceId);
        command.Parameters.AddWithValue("k", key);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no row of {key}");
        return (reader.GetInt32(0), reader.GetString(1));
    }

    /// <summary>A log row of <paramref name="key"/>, keyed by the grain hash of its state row in the database of <paramref name="stateIn"/>.</summary>
    private static async Task InsertLogRowAsync(string connectionString, string stateIn, string serviceId, string key, Guid request)
    {
        var hash = await Sql.ScalarAsync<int>(
            stateIn,
            "SELECT grainidhash FROM orleans_storage WHERE serviceid = @s AND graintypestring = 'product' AND grainidextensionstring = @k",
            ("s", serviceId), ("k", key));
        await Sql.ExecuteAsync(
            connectionString,
            """
            INSERT INTO shards_request_log (grainidhash, requestid, serviceid, graintypestring, grainkey, expires_at, outcome)
            VALUES (@h, @r, @s, 'product', @k, now() + interval '10 minutes', @o)
            ON CONFLICT DO NOTHING
            """,
            ("h", hash), ("s", serviceId), ("k", key), ("r", request), ("o", request.ToByteArray()));
    }

    private static async Task<List<Guid>> LoggedRequestsAsync(string connectionString, string serviceId, string key)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT requestid, outcome FROM shards_request_log WHERE serviceid = @s AND graintypestring = 'product' AND grainkey = @k", connection);
        command.Parameters.AddWithValue("s", serviceId);
        command.Parameters.AddWithValue("k", key);
        await using var reader = await command.ExecuteReaderAsync();
        var requests = new List<Guid>();
        while (await reader.ReadAsync())
        {
            var request = reader.GetGuid(0);
            Assert.Equal(request.ToByteArray(), reader.GetFieldValue<byte[]>(1)); // the outcome came along
            requests.Add(request);
        }

        return requests.Order().ToList();
    }

    private static GrainId Product(string sku) => GrainId.Create("product", sku);

    private static string NewServiceId() => $"moving-{Guid.NewGuid():N}";
}
