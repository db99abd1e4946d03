using Orleans.Runtime;
using Orleans.Storage;
using Shards.Contracts;
using Shards.Hashing;
using Shards.Server.Silo;
using Shards.Storage.Postgres;
using Shards.Storage.Postgres.Sharding;
using Shards.Tests.Database;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Sharding;

/// <summary>
/// The sharded grain storage, wired as a Shards silo wires it, over two shard databases on two PostgreSQL servers:
/// rows land where the pinned router says, Orleans' ADO.NET semantics (ETags, clear) hold per shard, the first silo
/// registers the shard map, and a silo whose configuration disagrees with it does not start.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(TwoServerShardsCollection.Name)]
public sealed class ShardedGrainStorageTests(TwoServerShardsFixture shards) : IDisposable
{
    private const string ProductState = "product";
    private static readonly ShardRouter Router = new(["s0", "s1"]);
    private readonly List<OrleansAdoNetProviders> _providers = [];

    [Fact]
    public async Task Each_grain_state_lands_in_the_database_the_router_names_and_only_there()
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);
        var skus = Enumerable.Range(1, 40).Select(i => $"sku-{i:D3}").ToList();

        foreach (var sku in skus)
        {
            await storage.WriteStateAsync(ProductState, Product(sku), new GrainState<ContractProductState>(State(sku)));
        }

        foreach (var sku in skus)
        {
            var expected = Router.ShardFor($"product/{sku}");
            var other = expected == "s0" ? "s1" : "s0";
            Assert.Equal(1, await RowCountAsync(shards.ConnectionStringOf(expected), serviceId, sku));
            Assert.Equal(0, await RowCountAsync(shards.ConnectionStringOf(other), serviceId, sku));
        }

        Assert.InRange(await RowCountAsync(shards.S0, serviceId), 10, 30);
        Assert.Equal(skus.Count, await RowCountAsync(shards.S0, serviceId) + await RowCountAsync(shards.S1, serviceId));
        Assert.Equal(0, await RowCountAsync(shards.Main, serviceId));
    }

    [Theory]
    [InlineData("s0")]
    [InlineData("s1")]
    public async Task State_written_to_a_shard_reads_back_clears_and_is_written_again(string shard)
    {
        var storage = await StorageAsync(NewServiceId());
        var grain = Product(SkuOn(shard));
        var written = new GrainState<ContractProductState>(State("Lamp"));

        await storage.WriteStateAsync(ProductState, grain, written);
        var read = await ReadAsync(storage, grain);
        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal("Lamp", read.State?.Name);

        await storage.ClearStateAsync(ProductState, grain, read);
        var cleared = await ReadAsync(storage, grain);
        Assert.False(cleared.RecordExists);
        Assert.Equal(read.ETag, cleared.ETag);

        cleared.State = State("Lamp v2");
        await storage.WriteStateAsync(ProductState, grain, cleared);
        Assert.Equal("Lamp v2", (await ReadAsync(storage, grain)).State?.Name);
    }

    [Theory]
    [InlineData("s0")]
    [InlineData("s1")]
    public async Task A_stale_etag_still_conflicts_in_the_shard_that_holds_the_row(string shard)
    {
        var serviceId = NewServiceId();
        var storage = await StorageAsync(serviceId);
        var sku = SkuOn(shard);
        var first = new GrainState<ContractProductState>(State("First"));
        await storage.WriteStateAsync(ProductState, Product(sku), first);
        var stale = new GrainState<ContractProductState>(State("Stale"), first.ETag) { RecordExists = true };
        await storage.WriteStateAsync(ProductState, Product(sku), first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(ProductState, Product(sku), stale));

        Assert.Equal(first.ETag, (await Sql.ScalarAsync<int>(
            shards.ConnectionStringOf(shard),
            "SELECT version FROM orleans_storage WHERE serviceid = @s AND grainidextensionstring = @k",
            ("s", serviceId), ("k", sku))).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("First", (await ReadAsync(storage, Product(sku))).State?.Name);
    }

    [Fact]
    public async Task The_first_silo_registers_its_shards_as_map_version_1_and_each_database_its_shard_name()
    {
        var serviceId = NewServiceId();
        await StorageAsync(serviceId);

        var map = await TestStores.Maps(shards.Main).ReadCurrentAsync(serviceId);

        Assert.NotNull(map);
        Assert.Equal(1, map.Version);
        Assert.Equal(ShardRouter.Algorithm, map.Document.Algorithm);
        Assert.Equal(ShardRouter.DefaultVirtualNodes, map.Document.VirtualNodes);
        Assert.Equal(["s0", "s1"], map.Document.Names);
        Assert.Equal(Shards.Postgres.PostgresAvailability.Describe(shards.S1), map.Document.Find("s1")!.Target);
        Assert.Equal("s0", await TestStores.Maps(shards.Main).ClaimIdentityAsync(shards.S0, serviceId, "other"));
        Assert.Equal("s1", await TestStores.Maps(shards.Main).ClaimIdentityAsync(shards.S1, serviceId, "other"));

        // A second silo with the same configuration agrees with the map and adds no version.
        await StorageAsync(serviceId);
        Assert.Equal(1, (await TestStores.Maps(shards.Main).ReadCurrentAsync(serviceId))!.Version);
    }

    [Fact]
    public async Task A_silo_missing_a_shard_of_the_map_refuses_to_start()
    {
        var serviceId = NewServiceId();
        await StorageAsync(serviceId);
        var onlyS0 = new ShardsStorageOptions { Shards = [new ShardOptions { Name = "s0", ConnectionString = shards.S0 }] };

        var refused = await Assert.ThrowsAsync<ShardedStorageStartupException>(() => StorageAsync(serviceId, onlyS0));

        Assert.Contains("no connection string for s1", refused.Message, StringComparison.Ordinal);
        Assert.Contains("resharding", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silo_whose_shard_names_another_shards_database_refuses_to_start()
    {
        var serviceId = NewServiceId();
        await StorageAsync(serviceId);
        var swapped = new ShardsStorageOptions
        {
            Shards =
            [
                new ShardOptions { Name = "s0", ConnectionString = shards.S1 },
                new ShardOptions { Name = "s1", ConnectionString = shards.S0 },
            ],
        };

        var refused = await Assert.ThrowsAsync<ShardedStorageStartupException>(() => StorageAsync(serviceId, swapped));

        Assert.Contains("but that database is shard 's1'", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", refused.Message, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// One shard is plain ADO.NET storage: the same calls leave byte-identical rows (key columns, hashes, payload,
    /// versions) and the same ETags as Orleans' own provider registered without Shards, with group commit and without
    /// (both send Orleans' write statement themselves, after the shard's write-fence check).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task One_shard_leaves_exactly_the_rows_and_etags_of_plain_ado_net_storage(bool groupCommit)
    {
        var shardedService = NewServiceId();
        var plainService = NewServiceId();
        var sharded = await StorageAsync(shardedService, new ShardsStorageOptions { GroupCommit = { Enabled = groupCommit } }, shards.Main);
        var plainProviders = OrleansAdoNetProviders.ForPlainAdoNetStorage(shards.Main, plainService, StorageNames.Catalog);
        _providers.Add(plainProviders);
        var plain = await plainProviders.GrainStorageAsync(StorageNames.Catalog);
        Assert.IsType<AdoNetGrainStorage>(plain);

        var etags = new List<(string?, string?)>();
        foreach (var storage in new[] { sharded, plain })
        {
            var grains = new[] { Product("sku-a"), Product("sku-b"), GrainId.Create("cart", "cart-a") };
            var states = grains.Select(_ => new GrainState<ContractProductState>(State("v1"))).ToArray();
            for (var i = 0; i < grains.Length; i++)
            {
                await storage.WriteStateAsync(ProductState, grains[i], states[i]);
                states[i].State = State("v2");
                await storage.WriteStateAsync(ProductState, grains[i], states[i]);
            }

            await storage.ClearStateAsync(ProductState, grains[1], states[1]);
            etags.Add((states[0].ETag, states[1].ETag));
        }

        Assert.Equal(etags[0], etags[1]);
        var shardedRows = await RowsAsync(shards.Main, shardedService);
        Assert.Equal(3, shardedRows.Split(" | ").Length);
        Assert.Equal(shardedRows, await RowsAsync(shards.Main, plainService));
    }

    public void Dispose()
    {
        foreach (var providers in _providers)
        {
            providers.Dispose();
        }
    }

    private async Task<IGrainStorage> StorageAsync(string serviceId, ShardsStorageOptions? storage = null, string? main = null)
    {
        var providers = OrleansAdoNetProviders.ForSilo(main ?? shards.Main, $"cluster-{serviceId}", serviceId, storage ?? shards.Storage());
        _providers.Add(providers);
        return await providers.GrainStorageAsync(StorageNames.Catalog);
    }

    private static async Task<GrainState<ContractProductState>> ReadAsync(IGrainStorage storage, GrainId grain)
    {
        var state = new GrainState<ContractProductState>();
        await storage.ReadStateAsync(ProductState, grain, state);
        return state;
    }

    private static string SkuOn(string shard) =>
        Enumerable.Range(1, 100).Select(i => $"sku-on-{i}").First(sku => Router.ShardFor($"product/{sku}") == shard);

    private static GrainId Product(string sku) => GrainId.Create("product", sku);

    private static ContractProductState State(string name) => new() { Name = name, Price = 1.5m, Tags = ["t"] };

    private static Task<long> RowCountAsync(string connectionString, string serviceId, string? sku = null) => Sql.ScalarAsync<long>(
        connectionString,
        "SELECT count(*) FROM orleans_storage WHERE serviceid = @s AND (@k::text IS NULL OR grainidextensionstring = @k)",
        ("s", serviceId), ("k", sku));

    /// <summary>A service's rows as text, without the columns that differ by nature (service id, modification time).</summary>
    private static Task<string> RowsAsync(string connectionString, string serviceId) => Sql.ScalarAsync<string>(
        connectionString,
        """
        SELECT string_agg(concat_ws(',', graintypestring, grainidn0, grainidn1, grainidextensionstring, grainidhash, graintypehash,
                                    encode(payloadbinary, 'hex'), version), ' | ' ORDER BY graintypestring, grainidextensionstring)
          FROM orleans_storage WHERE serviceid = @s
        """,
        ("s", serviceId));

    private static string NewServiceId() => $"sharded-{Guid.NewGuid():N}";
}
