using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using Shards.Contracts;
using Shards.Storage.Postgres;
using Shards.Storage.Postgres.Sharding;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Database;

/// <summary>
/// Orleans' ADO.NET grain storage (<see cref="AdoNetGrainStorage"/>, registered as Shards registers it: Orleans binary
/// serializer) against Shards' persistence schema (0003_persistence.sql, table <c>orleans_storage</c>). Each test uses
/// its own ServiceId, so the tests sharing the database cannot see each other's rows.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class GrainStorageContractTests(PostgresDatabaseFixture database) : IClassFixture<PostgresDatabaseFixture>, IDisposable
{
    /// <summary>The state name, which the provider passes as the "grain type" (GrainTypeString).</summary>
    private const string ProductState = "product";

    private static readonly GrainId Sku1 = GrainId.Create("product", "sku-1");

    private readonly List<OrleansAdoNetProviders> _providers = [];

    /// <summary>
    /// With no shard configured, each storage is the sharded storage over one shard, <c>main</c> (this database): every
    /// contract test below therefore also shows that one shard behaves exactly like plain ADO.NET storage.
    /// </summary>
    [Fact]
    public async Task Shards_silo_wiring_resolves_the_ado_net_storage_with_the_orleans_binary_serializer()
    {
        foreach (var name in StorageNames.All)
        {
            var wrapper = Assert.IsType<StorageFailureTranslation>(await StorageAsync(NewServiceId(), name));
            var sharded = Assert.IsType<ShardedGrainStorage>(wrapper.Inner);
            var (shard, inner) = Assert.Single(sharded.Shards);
            Assert.Equal(ShardSet.MainShardName, shard);
            var groupCommit = Assert.IsType<GroupCommitGrainStorage>(inner);
            Assert.IsType<OrleansGrainStorageSerializer>(groupCommit.Inner.Serializer);
        }
    }

    /// <summary>
    /// Group commit: concurrent writes of many grains share transactions, yet each keeps its own version check: the
    /// stale ones fail alone with InconsistentStateException, every other one is stored once with its own ETag.
    /// </summary>
    [Fact]
    public async Task Concurrent_writes_share_commits_and_a_stale_etag_fails_only_its_own_write()
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);
        var grains = Enumerable.Range(0, 64).Select(i => GrainId.Create("product", $"sku-{i:000}")).ToArray();
        var states = grains.Select((_, i) => new GrainState<ContractProductState>(Product($"v1-{i}", i))).ToArray();
        await Task.WhenAll(grains.Select((grain, i) => storage.WriteStateAsync(ProductState, grain, states[i])));
        var firstETags = states.Select(s => s.ETag).ToArray();
        var groupCommit = GroupCommitOf(storage);
        var commitsBefore = groupCommit.Commits;

        // Every 8th writer holds a stale ETag (another writer moved the row on since it read).
        foreach (var i in Enumerable.Range(0, 64).Where(i => i % 8 == 0))
        {
            var other = new GrainState<ContractProductState>(Product($"other-{i}", i), firstETags[i]) { RecordExists = true };
            await storage.WriteStateAsync(ProductState, grains[i], other);
        }

        foreach (var (state, i) in states.Select((s, i) => (s, i)))
        {
            state.State = Product($"v2-{i}", i);
        }

        var outcomes = await Task.WhenAll(grains.Select((grain, i) => Outcome(storage.WriteStateAsync(ProductState, grain, states[i]))));

        Assert.True(groupCommit.Commits - commitsBefore < 8 + 56, "no two of 56 concurrent writes shared a commit");
        Assert.Equal(64, await RowCount(serviceId, ProductState));
        for (var i = 0; i < 64; i++)
        {
            var stored = await ReadAsync(storage, grains[i]);
            if (i % 8 == 0)
            {
                Assert.IsType<InconsistentStateException>(outcomes[i]);
                Assert.Equal($"other-{i}", stored.State?.Name);
            }
            else
            {
                Assert.Null(outcomes[i]);
                Assert.NotEqual(firstETags[i], states[i].ETag);
                Assert.Equal(states[i].ETag, stored.ETag);
                Assert.Equal($"v2-{i}", stored.State?.Name);
            }
        }
    }

    [Fact]
    public async Task Group_commit_can_be_turned_off_which_leaves_one_transaction_per_write_on_the_plain_ado_net_storage()
    {
        var serviceId = NewServiceId();
        var options = new ShardsStorageOptions { GroupCommit = { Enabled = false } };
        using var providers = OrleansAdoNetProviders.ForSilo(database.ConnectionString, $"cluster-{serviceId}", serviceId, options);
        var storage = await providers.GrainStorageAsync(StorageNames.Catalog);
        var sharded = Assert.IsType<ShardedGrainStorage>(Assert.IsType<StorageFailureTranslation>(storage).Inner);
        Assert.IsType<AdoNetGrainStorage>(Assert.IsType<FencedAdoNetGrainStorage>(Assert.Single(sharded.Shards).Value).Inner);

        var state = new GrainState<ContractProductState>(Product("Lamp", 1m));
        await storage.WriteStateAsync(ProductState, Sku1, state);
        Assert.Equal("Lamp", await StoredNameAsync(storage, Sku1));
    }

    [Fact]
    public async Task Stored_payload_is_the_orleans_binary_form_of_the_state()
    {
        var serviceId = NewServiceId();
        using var providers = OrleansAdoNetProviders.ForSilo(database.ConnectionString, $"cluster-{serviceId}", serviceId);
        var storage = await providers.GrainStorageAsync(StorageNames.Catalog);
        var state = Product("Lamp", 19.90m, "light");
        await storage.WriteStateAsync(ProductState, Sku1, new GrainState<ContractProductState>(state));

        var payload = await Sql.ScalarAsync<byte[]>(
            database.ConnectionString,
            "SELECT payloadbinary FROM orleans_storage WHERE serviceid = @s AND graintypestring = @t AND grainidextensionstring = @k",
            ("s", serviceId), ("t", ProductState), ("k", "sku-1"));

        var serializer = providers.Services.GetRequiredService<Serializer>();
        AssertSameProduct(state, serializer.Deserialize<ContractProductState>(payload));
    }

    [Fact]
    public async Task Reading_a_grain_that_was_never_written_gives_no_record()
    {
        var storage = await StorageAsync(NewServiceId());
        var state = new GrainState<ContractProductState>();

        await storage.ReadStateAsync(ProductState, Sku1, state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.NotNull(state.State);
        Assert.Equal(string.Empty, state.State.Name);
    }

    [Fact]
    public async Task Written_state_reads_back_with_the_etag_the_write_set()
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);
        var written = new GrainState<ContractProductState>(Product("Lamp", 19.90m, "light", "desk"));

        await storage.WriteStateAsync(ProductState, Sku1, written);

        Assert.NotNull(written.ETag);
        Assert.True(written.RecordExists);
        var read = await ReadAsync(storage, Sku1);
        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        AssertSameProduct(written.State, read.State);

        // A second write with the etag just read moves the etag on, and the new state is what is stored.
        var firstETag = read.ETag;
        read.State = Product("Lamp", 17.50m, "light", "desk");
        await storage.WriteStateAsync(ProductState, Sku1, read);
        Assert.NotEqual(firstETag, read.ETag);
        var again = await ReadAsync(storage, Sku1);
        Assert.Equal(read.ETag, again.ETag);
        Assert.Equal(17.50m, again.State?.Price);
        Assert.Equal(1, await RowCount(serviceId, ProductState));
    }

    [Fact]
    public async Task Stale_etag_write_throws_InconsistentStateException_and_leaves_the_stored_row_unchanged()
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);
        var first = new GrainState<ContractProductState>(Product("Lamp", 10m));
        await storage.WriteStateAsync(ProductState, Sku1, first);
        var staleETag = first.ETag;
        first.State = Product("Lamp", 11m);
        await storage.WriteStateAsync(ProductState, Sku1, first);
        var before = await StoredRows(serviceId);

        var stale = new GrainState<ContractProductState>(Product("Lamp", 99m), staleETag) { RecordExists = true };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(ProductState, Sku1, stale));

        Assert.Equal(before, await StoredRows(serviceId));
        var read = await ReadAsync(storage, Sku1);
        Assert.Equal(first.ETag, read.ETag);
        Assert.Equal(11m, read.State?.Price);
    }

    [Fact]
    public async Task First_write_without_an_etag_when_the_grain_already_has_state_throws_and_adds_no_second_row()
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);
        await storage.WriteStateAsync(ProductState, Sku1, new GrainState<ContractProductState>(Product("Original", 5m)));
        var before = await StoredRows(serviceId);

        var blind = new GrainState<ContractProductState>(Product("Blind overwrite", 1m));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(ProductState, Sku1, blind));

        Assert.Equal(before, await StoredRows(serviceId));
        Assert.Equal(1, await RowCount(serviceId, ProductState));
        Assert.Equal("Original", await StoredNameAsync(storage, Sku1));
    }

    [Fact]
    public async Task Clear_with_a_stale_etag_throws_and_keeps_the_state()
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);
        var state = new GrainState<ContractProductState>(Product("Lamp", 10m));
        await storage.WriteStateAsync(ProductState, Sku1, state);
        var staleETag = state.ETag;
        await storage.WriteStateAsync(ProductState, Sku1, state);
        var before = await StoredRows(serviceId);

        var stale = new GrainState<ContractProductState>(Product("Lamp", 10m), staleETag) { RecordExists = true };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(ProductState, Sku1, stale));

        Assert.Equal(before, await StoredRows(serviceId));
        Assert.True((await ReadAsync(storage, Sku1)).RecordExists);
    }

    /// <summary>
    /// A state write changes the payload, the version and <c>modifiedon</c>. PostgreSQL updates a row in place (HOT,
    /// no new index entries) only when no column that any index names (key, expression or predicate, partial index or
    /// not) changes: so no index may name those three, or every product and cart write pays an entry in every index.
    /// The orders' listing index names <c>order_written_at</c>, which a product or cart write leaves NULL.
    /// </summary>
    [Fact]
    public async Task No_index_names_a_column_that_every_state_write_changes_so_product_and_cart_writes_stay_hot()
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT i.relname, a.attname
              FROM pg_index AS x
              JOIN pg_class AS i ON i.oid = x.indexrelid
              JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE x.indrelid = 'orleans_storage'::regclass
               AND (a.attnum = ANY (x.indkey)
                    OR coalesce(pg_get_expr(x.indexprs, x.indrelid), '') ~ ('\m' || a.attname || '\M')
                    OR coalesce(pg_get_expr(x.indpred, x.indrelid), '') ~ ('\m' || a.attname || '\M'))
            """,
            connection);
        var indexed = new List<(string Index, string Column)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                indexed.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        Assert.Contains(indexed, c => c.Column == "grainidhash");
        Assert.Contains(indexed, c => c.Column == "order_written_at");
        Assert.DoesNotContain(indexed, c => c.Column is "payloadbinary" or "version" or "modifiedon");
    }

    [Fact]
    public async Task Clear_with_the_current_etag_removes_the_state_and_later_writes_continue_from_the_new_etag()
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);
        var state = new GrainState<ContractProductState>(Product("Lamp", 10m));
        await storage.WriteStateAsync(ProductState, Sku1, state);
        var writtenETag = state.ETag;

        await storage.ClearStateAsync(ProductState, Sku1, state);

        Assert.False(state.RecordExists);
        Assert.NotEqual(writtenETag, state.ETag);
        var read = await ReadAsync(storage, Sku1);
        Assert.False(read.RecordExists);
        Assert.Equal(state.ETag, read.ETag);

        // The cleared row keeps its version: a blind first write conflicts, a write with the clear's etag succeeds.
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync(ProductState, Sku1, new GrainState<ContractProductState>(Product("Blind", 1m))));
        read.State = Product("Lamp v2", 12m);
        await storage.WriteStateAsync(ProductState, Sku1, read);
        Assert.Equal("Lamp v2", await StoredNameAsync(storage, Sku1));
        Assert.Equal(1, await RowCount(serviceId, ProductState));
    }

    [Fact]
    public async Task Clearing_a_grain_that_was_never_written_succeeds_and_stores_nothing()
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);

        await storage.ClearStateAsync(ProductState, Sku1, new GrainState<ContractProductState>());

        Assert.Equal(0, await RowCount(serviceId, ProductState));
    }

    [Fact]
    public async Task Concurrent_writers_with_the_same_etag_let_exactly_one_win_and_leave_one_row()
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);
        var initial = new GrainState<ContractProductState>(Product("Initial", 1m));
        await storage.WriteStateAsync(ProductState, Sku1, initial);

        var writers = Enumerable.Range(1, 8)
            .Select(i => new GrainState<ContractProductState>(Product($"writer-{i}", i), initial.ETag) { RecordExists = true })
            .ToList();
        var outcomes = await Task.WhenAll(writers.Select(w => Outcome(storage.WriteStateAsync(ProductState, Sku1, w))));

        var winner = writers[Array.FindIndex(outcomes, o => o is null)];
        Assert.Single(outcomes, o => o is null);
        Assert.All(outcomes.Where(o => o is not null), o => Assert.IsType<InconsistentStateException>(o));
        Assert.Equal(1, await RowCount(serviceId, ProductState));
        var stored = await ReadAsync(storage, Sku1);
        Assert.Equal(winner.ETag, stored.ETag);
        AssertSameProduct(winner.State, stored.State);
    }

    /// <summary>
    /// Two activations of one grain racing during a failover, both without state yet: upstream's schema has no
    /// unique key, so both inserts can succeed and leave two rows.
    /// </summary>
    [Fact]
    public async Task Concurrent_first_writes_let_exactly_one_win_and_leave_one_row()
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);

        var writers = Enumerable.Range(1, 8).Select(i => new GrainState<ContractProductState>(Product($"writer-{i}", i))).ToList();
        var outcomes = await Task.WhenAll(writers.Select(w => Outcome(storage.WriteStateAsync(ProductState, Sku1, w))));

        Assert.Single(outcomes, o => o is null);
        Assert.All(outcomes.Where(o => o is not null), o => Assert.IsType<InconsistentStateException>(o));
        Assert.Equal(1, await RowCount(serviceId, ProductState));
        var winner = writers[Array.FindIndex(outcomes, o => o is null)];
        AssertSameProduct(winner.State, (await ReadAsync(storage, Sku1)).State);
    }

    /// <summary>
    /// The same race made deterministic: another activation's first write is still uncommitted when this one's
    /// arrives. With Shards' unique key the second insert waits for the first and then gets the conflict; a schema
    /// without one (upstream's INSERT ... WHERE NOT EXISTS) would not see the uncommitted row and insert a second.
    /// </summary>
    [Fact]
    public async Task First_write_racing_an_uncommitted_first_write_waits_for_it_and_then_conflicts()
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);

        // The other activation's row: the provider's own key values and payload, borrowed from a scratch service.
        var scratchId = NewServiceId();
        await (await StorageAsync(scratchId)).WriteStateAsync(ProductState, Sku1, new GrainState<ContractProductState>(Product("Other activation", 7m)));
        await using var other = new NpgsqlConnection(database.ConnectionString);
        await other.OpenAsync();
        await using var otherTransaction = await other.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
            """
            INSERT INTO orleans_storage
                (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring, grainidhash, graintypehash, payloadbinary, version)
            SELECT @target, graintypestring, grainidn0, grainidn1, grainidextensionstring, grainidhash, graintypehash, payloadbinary, version
              FROM orleans_storage WHERE serviceid = @scratch
            """, other, otherTransaction))
        {
            insert.Parameters.AddWithValue("target", serviceId);
            insert.Parameters.AddWithValue("scratch", scratchId);
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }

        var write = Outcome(storage.WriteStateAsync(ProductState, Sku1, new GrainState<ContractProductState>(Product("This activation", 1m))));
        await WaitUntilAsync(async () => write.IsCompleted || await WaitingOnALock());
        Assert.False(write.IsCompleted, "the first write did not wait for the other activation's uncommitted row");

        await otherTransaction.CommitAsync();

        Assert.IsType<InconsistentStateException>(await write);
        Assert.Equal(1, await RowCount(serviceId, ProductState));
        Assert.Equal("Other activation", await StoredNameAsync(storage, Sku1));
    }

    [Fact]
    public async Task Different_state_names_with_the_same_key_are_separate_rows()
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);
        var product = new GrainState<ContractProductState>(Product("As product", 1m));
        var archive = new GrainState<ContractProductState>(Product("As archive", 2m));

        await storage.WriteStateAsync(ProductState, Sku1, product);
        await storage.WriteStateAsync("product-archive", Sku1, archive);

        Assert.Equal(1, await RowCount(serviceId, ProductState));
        Assert.Equal(1, await RowCount(serviceId, "product-archive"));
        Assert.Equal("As product", await StoredNameAsync(storage, Sku1, ProductState));
        Assert.Equal("As archive", await StoredNameAsync(storage, Sku1, "product-archive"));

        await storage.ClearStateAsync("product-archive", Sku1, archive);
        Assert.True((await ReadAsync(storage, Sku1, ProductState)).RecordExists);
    }

    [Fact]
    public async Task Different_keys_of_one_state_name_are_separate_rows()
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);
        var sku2 = GrainId.Create("product", "sku-2");
        var order = GrainId.Create(GrainType.Create("order"), GrainIdKeyExtensions.CreateGuidKey(Guid.Parse("6f1c1a52-3a0e-4b7e-9a51-0c2f4d1e8b90")));
        var counter = GrainId.Create(GrainType.Create("counter"), GrainIdKeyExtensions.CreateIntegerKey(424242));

        foreach (var (grain, name) in new[] { (Sku1, "one"), (sku2, "two"), (order, "guid"), (counter, "integer") })
        {
            await storage.WriteStateAsync(ProductState, grain, new GrainState<ContractProductState>(Product(name, 1m)));
        }

        Assert.Equal(4, await RowCount(serviceId, ProductState));
        Assert.Equal("one", await StoredNameAsync(storage, Sku1));
        Assert.Equal("two", await StoredNameAsync(storage, sku2));
        Assert.Equal("guid", await StoredNameAsync(storage, order));
        Assert.Equal("integer", await StoredNameAsync(storage, counter));
    }

    [Fact]
    public async Task Services_sharing_a_database_do_not_see_each_others_state()
    {
        var blueId = NewServiceId();
        var greenId = NewServiceId();
        var blue = await StorageAsync(blueId);
        var green = await StorageAsync(greenId);
        var blueState = new GrainState<ContractProductState>(Product("Blue lamp", 1m));
        await blue.WriteStateAsync(ProductState, Sku1, blueState);

        Assert.False((await ReadAsync(green, Sku1)).RecordExists);

        // Green's first write for the same grain is not a conflict with blue's row, and each reads its own.
        await green.WriteStateAsync(ProductState, Sku1, new GrainState<ContractProductState>(Product("Green lamp", 2m)));
        Assert.Equal("Blue lamp", await StoredNameAsync(blue, Sku1));
        Assert.Equal("Green lamp", await StoredNameAsync(green, Sku1));

        await blue.ClearStateAsync(ProductState, Sku1, blueState);
        Assert.True((await ReadAsync(green, Sku1)).RecordExists);
        Assert.Equal(1, await RowCount(blueId, ProductState));
        Assert.Equal(1, await RowCount(greenId, ProductState));
    }

    public void Dispose()
    {
        foreach (var providers in _providers)
        {
            providers.Dispose();
        }
    }

    private async Task<IGrainStorage> StorageAsync(string serviceId, string storageName = StorageNames.Catalog)
    {
        var providers = OrleansAdoNetProviders.ForSilo(database.ConnectionString, $"cluster-{serviceId}", serviceId);
        _providers.Add(providers);
        return await providers.GrainStorageAsync(storageName);
    }

    private static GroupCommitGrainStorage GroupCommitOf(IGrainStorage storage) => Assert.IsType<GroupCommitGrainStorage>(
        Assert.Single(Assert.IsType<ShardedGrainStorage>(Assert.IsType<StorageFailureTranslation>(storage).Inner).Shards).Value);

    private static async Task<GrainState<ContractProductState>> ReadAsync(IGrainStorage storage, GrainId grain, string stateName = ProductState)
    {
        var state = new GrainState<ContractProductState>();
        await storage.ReadStateAsync(stateName, grain, state);
        return state;
    }

    private static async Task<string?> StoredNameAsync(IGrainStorage storage, GrainId grain, string stateName = ProductState) =>
        (await ReadAsync(storage, grain, stateName)).State?.Name;

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(20);
        }
    }

    /// <summary>Whether a session is blocked on a lock while running a storage query.</summary>
    private async Task<bool> WaitingOnALock() => await Sql.ScalarAsync<long>(
        database.ConnectionString,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%storage_write%'") > 0;

    private static async Task<Exception?> Outcome(Task write)
    {
        try
        {
            await write;
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static ContractProductState Product(string name, decimal price, params string[] tags) => new() { Name = name, Price = price, Tags = [.. tags] };

    private static void AssertSameProduct(ContractProductState? expected, ContractProductState? actual)
    {
        Assert.NotNull(expected);
        Assert.NotNull(actual);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Price, actual.Price);
        Assert.Equal(expected.Tags, actual.Tags);
    }

    private Task<long> RowCount(string serviceId, string stateName) => Sql.ScalarAsync<long>(
        database.ConnectionString,
        "SELECT count(*) FROM orleans_storage WHERE serviceid = @s AND graintypestring = @t",
        ("s", serviceId), ("t", stateName));

    /// <summary>Every stored row of a service, as text (version, payload, modification time, ...).</summary>
    private Task<string> StoredRows(string serviceId) => Sql.ScalarAsync<string>(
        database.ConnectionString,
        """
        SELECT coalesce(string_agg(row_to_json(s)::text, ' | ' ORDER BY s.graintypestring, s.grainidn0, s.grainidn1, s.grainidextensionstring), '')
          FROM orleans_storage AS s
         WHERE s.serviceid = @s
        """,
        ("s", serviceId));

    private static string NewServiceId() => $"contract-{Guid.NewGuid():N}";
}

/// <summary>A grain state type for the storage contract tests, serialized by the Orleans binary serializer.</summary>
[GenerateSerializer]
[Alias("shards.tests.contract-product-state")]
public sealed class ContractProductState
{
    [Id(0)]
    public string Name { get; set; } = string.Empty;

    [Id(1)]
    public decimal Price { get; set; }

    [Id(2)]
    public List<string> Tags { get; set; } = [];
}
