using Shards.Contracts.Catalog;
using Shards.Contracts.Common;

namespace Shards.Tests.Grains;

[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(ShardsClusterCollection.Name)]
public sealed class ProductGrainTests(ShardsClusterFixture fixture)
{
    private IProductGrain Product(string sku) => fixture.Client.GetGrain<IProductGrain>(sku);

    [Fact]
    public async Task Upsert_creates_the_product_at_version_1_and_Get_returns_it()
    {
        var sku = Keys.New("sku");

        var created = await Product(sku).UpsertAsync(new ProductDefinition("Widget", 19.99m, 10));

        Assert.Equal(new ProductSnapshot(sku, "Widget", 19.99m, 10, 1), created);
        Assert.Equal(created, await Product(sku).GetAsync());
    }

    [Fact]
    public async Task Get_of_a_product_never_created_is_null()
    {
        Assert.Null(await Product(Keys.New("sku")).GetAsync());
    }

    [Fact]
    public async Task Upsert_of_an_existing_product_replaces_it_and_counts_the_write()
    {
        var sku = Keys.New("sku");
        await Product(sku).UpsertAsync(new ProductDefinition("Widget", 19.99m, 10));

        var updated = await Product(sku).UpsertAsync(new ProductDefinition("Gadget", 5m, 3));

        Assert.Equal(new ProductSnapshot(sku, "Gadget", 5m, 3, 2), updated);
    }

    [Fact]
    public async Task Upsert_with_the_same_definition_is_not_a_write()
    {
        var sku = Keys.New("sku");
        await Product(sku).UpsertAsync(new ProductDefinition("Widget", 19.99m, 10));

        var again = await Product(sku).UpsertAsync(new ProductDefinition("Widget", 19.99m, 10));

        Assert.Equal(1, again.Version);
    }

    [Theory]
    [InlineData("", 1, 1)]
    [InlineData("Widget", -1, 1)]
    [InlineData("Widget", 1.001, 1)]
    [InlineData("Widget", 1, -5)]
    [InlineData("Widget", 1, 2_000_000_000)]
    public async Task Upsert_with_bad_input_is_a_validation_error_and_changes_nothing(string name, double price, int stock)
    {
        var sku = Keys.New("sku");
        var before = await Product(sku).UpsertAsync(new ProductDefinition("Widget", 19.99m, 10));

        var error = await Assert.ThrowsAsync<ShardsException>(
            () => Product(sku).UpsertAsync(new ProductDefinition(name, (decimal)price, stock)));

        Assert.Equal(ShardsErrorCode.Validation, error.Code);
        Assert.Equal(before, await Product(sku).GetAsync());
    }

    [Fact]
    public async Task Upsert_without_a_definition_is_a_validation_error()
    {
        var error = await Assert.ThrowsAsync<ShardsException>(() => Product(Keys.New("sku")).UpsertAsync(null!));

        Assert.Equal(ShardsErrorCode.Validation, error.Code);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("-starts-with-dash")]
    [InlineData("slash/inside")]
    public async Task A_malformed_sku_is_a_validation_error_on_every_call(string sku)
    {
        var product = Product(sku);

        Assert.Equal(ShardsErrorCode.Validation, (await Assert.ThrowsAsync<ShardsException>(() => product.GetAsync())).Code);
        Assert.Equal(ShardsErrorCode.Validation, (await Assert.ThrowsAsync<ShardsException>(
            () => product.UpsertAsync(new ProductDefinition("Widget", 1m, 1)))).Code);
        Assert.Equal(ShardsErrorCode.Validation, (await Assert.ThrowsAsync<ShardsException>(() => product.ReserveAsync(1))).Code);
        Assert.Equal(ShardsErrorCode.Validation, (await Assert.ThrowsAsync<ShardsException>(() => product.WhereAsync())).Code);
    }

    [Fact]
    public async Task A_sku_longer_than_64_characters_is_a_validation_error()
    {
        var error = await Assert.ThrowsAsync<ShardsException>(() => Product(new string('a', 65)).GetAsync());

        Assert.Equal(ShardsErrorCode.Validation, error.Code);
    }

    [Fact]
    public async Task Reserve_and_release_move_stock_and_count_writes()
    {
        var sku = Keys.New("sku");
        await Product(sku).UpsertAsync(new ProductDefinition("Widget", 1m, 10));

        var reserved = await Product(sku).ReserveAsync(4);
        var released = await Product(sku).ReleaseAsync(1);

        Assert.Equal((6, 2L), (reserved.Stock, reserved.Version));
        Assert.Equal((7, 3L), (released.Stock, released.Version));
    }

    [Fact]
    public async Task A_manual_reserve_counts_as_reserved_and_release_gives_back_only_what_was_reserved()
    {
        var sku = Keys.New("sku");
        await Product(sku).UpsertAsync(new ProductDefinition("Widget", 1m, 10));

        var reserved = await Product(sku).ReserveAsync(4);
        var tooMany = await Assert.ThrowsAsync<ShardsException>(() => Product(sku).ReleaseAsync(5));
        var released = await Product(sku).ReleaseAsync(4);

        Assert.Equal((6, 4), (reserved.Stock, reserved.Reserved));
        Assert.Equal(ShardsErrorCode.Conflict, tooMany.Code);
        Assert.Contains("only 4 units are reserved outside orders; nothing was released", tooMany.Message, StringComparison.Ordinal);
        Assert.Equal((10, 0, 3L), (released.Stock, released.Reserved, released.Version));
    }

    [Fact]
    public async Task Release_with_nothing_reserved_is_a_conflict_and_adds_no_stock()
    {
        var sku = Keys.New("sku");
        var before = await Product(sku).UpsertAsync(new ProductDefinition("Widget", 1m, 10));

        var error = await Assert.ThrowsAsync<ShardsException>(() => Product(sku).ReleaseAsync(1000));

        Assert.Equal(ShardsErrorCode.Conflict, error.Code);
        Assert.Contains("only 0 units are reserved outside orders", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await Product(sku).GetAsync());
    }

    [Fact]
    public async Task Upsert_of_a_stock_that_with_the_reserved_units_passes_the_maximum_is_a_conflict()
    {
        var sku = Keys.New("sku");
        await Product(sku).UpsertAsync(new ProductDefinition("Widget", 1m, 10));
        await Product(sku).ReserveForOrderAsync(Keys.New("order"), 3);
        var before = await Product(sku).GetAsync();

        var error = await Assert.ThrowsAsync<ShardsException>(() => Product(sku).UpsertAsync(new ProductDefinition("Widget", 1m, 999_999_998)));
        var atTheMaximum = await Product(sku).UpsertAsync(new ProductDefinition("Widget", 1m, 999_999_997));

        Assert.Equal(ShardsErrorCode.Conflict, error.Code);
        Assert.Contains("3 units are reserved", error.Message, StringComparison.Ordinal);
        Assert.Equal((999_999_997, 3), (atTheMaximum.Stock, atTheMaximum.Reserved));
        Assert.Equal(before!.Version + 1, atTheMaximum.Version);
    }

    [Fact]
    public async Task Reserve_beyond_stock_is_a_conflict_and_changes_nothing()
    {
        var sku = Keys.New("sku");
        var before = await Product(sku).UpsertAsync(new ProductDefinition("Widget", 1m, 5));

        var error = await Assert.ThrowsAsync<ShardsException>(() => Product(sku).ReserveAsync(6));

        Assert.Equal(ShardsErrorCode.Conflict, error.Code);
        Assert.Contains("only 5 in stock", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await Product(sku).GetAsync());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public async Task Reserve_or_release_of_a_non_positive_quantity_is_a_validation_error(int quantity)
    {
        var sku = Keys.New("sku");
        var before = await Product(sku).UpsertAsync(new ProductDefinition("Widget", 1m, 5));

        Assert.Equal(ShardsErrorCode.Validation, (await Assert.ThrowsAsync<ShardsException>(() => Product(sku).ReserveAsync(quantity))).Code);
        Assert.Equal(ShardsErrorCode.Validation, (await Assert.ThrowsAsync<ShardsException>(() => Product(sku).ReleaseAsync(quantity))).Code);
        Assert.Equal(before, await Product(sku).GetAsync());
    }

    [Fact]
    public async Task Reserve_of_an_unknown_product_is_not_found()
    {
        var error = await Assert.ThrowsAsync<ShardsException>(() => Product(Keys.New("sku")).ReserveAsync(1));

        Assert.Equal(ShardsErrorCode.NotFound, error.Code);
    }

    [Fact]
    public async Task Where_reports_the_grain_id_the_hosting_silo_and_the_activation_time()
    {
        var sku = Keys.New("sku");
        var before = DateTimeOffset.UtcNow;

        var location = await Product(sku).WhereAsync();

        Assert.Equal($"product/{sku}", location.GrainId);
        Assert.Contains(location.Silo, fixture.Cluster.Silos.Select(silo => silo.SiloAddress.ToString()));
        Assert.Contains(location.SiloName, fixture.Cluster.Silos.Select(silo => silo.Name));
        Assert.InRange(location.ActivatedAt, before.AddSeconds(-5), DateTimeOffset.UtcNow);
        Assert.Equal(location, await Product(sku).WhereAsync());
    }

    [Fact]
    public async Task Products_spread_over_every_silo_by_hash()
    {
        var locations = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Product($"spread-{i}").WhereAsync()));

        Assert.Equal(fixture.Cluster.Silos.Count, locations.Select(location => location.Silo).Distinct().Count());
    }
}
