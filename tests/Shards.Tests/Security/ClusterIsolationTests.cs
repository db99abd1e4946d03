using System.Net;
using System.Text.Json;
using Npgsql;
using Orleans.Runtime;
using Shards.Client;
using Shards.Postgres;
using Shards.Tests.Api;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Security;

/// <summary>
/// Two clusters (different ClusterId, ServiceId left to its default) on one PostgreSQL database: the same product and
/// cart keys written in both keep separate values, the membership rows are separate, and neither the HTTP API nor
/// <c>shards members</c> shows the other cluster's silos.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class ClusterIsolationTests
{
    private const string Key = "isolation-key";

    [Fact(Timeout = 180_000)]
    public async Task Two_clusters_on_one_database_never_see_each_others_silos_or_grains()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("isolation");
        var (blueId, greenId) = ($"blue-{Guid.NewGuid():N}"[..12], $"green-{Guid.NewGuid():N}"[..12]);
        await using var blue = ApiSilo.Start(connectionString, Settings(blueId, "blue-silo"));
        await using var green = ApiSilo.Start(connectionString, Settings(greenId, "green-silo"));
        await Task.WhenAll(blue.Started, green.Started);
        using var blueHttp = await blue.ClientAsync(Key);
        using var greenHttp = await green.ClientAsync(Key);

        foreach (var (http, colour, stock) in new[] { (blueHttp, "Blue", 11), (greenHttp, "Green", 22) })
        {
            Assert.Equal(HttpStatusCode.OK, (await http.PutJsonAsync("/api/products/sku-shared", $$"""{"name":"{{colour}} mug","price":3,"stock":{{stock}}}""")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.PostJsonAsync("/api/carts/cart-shared/items", $$"""{"sku":"sku-shared","quantity":{{stock / 11}}}""")).StatusCode);
        }

        // Read back after the activations are gone, so the values come from storage, not from memory.
        await Deactivate(blueHttp, blue);
        await Deactivate(greenHttp, green);
        var blueProduct = await (await blueHttp.GetAsync("/api/products/sku-shared")).JsonAsync();
        var greenProduct = await (await greenHttp.GetAsync("/api/products/sku-shared")).JsonAsync();
        var blueCart = await (await blueHttp.GetAsync("/api/carts/cart-shared")).JsonAsync();
        var greenCart = await (await greenHttp.GetAsync("/api/carts/cart-shared")).JsonAsync();

        Assert.Equal(("Blue mug", 11, 1L), (blueProduct.GetProperty("name").GetString(), blueProduct.GetProperty("stock").GetInt32(), blueProduct.GetProperty("version").GetInt64()));
        Assert.Equal(("Green mug", 22, 1L), (greenProduct.GetProperty("name").GetString(), greenProduct.GetProperty("stock").GetInt32(), greenProduct.GetProperty("version").GetInt64()));
        Assert.Equal(1, blueCart.GetProperty("lines")[0].GetProperty("quantity").GetInt32());
        Assert.Equal(2, greenCart.GetProperty("lines")[0].GetProperty("quantity").GetInt32());
        Assert.Equal(new[] { blueId, greenId }.Order(StringComparer.Ordinal), (await StoredServiceIds(connectionString)).Order(StringComparer.Ordinal));

        var blueRows = await MembershipTableReader.ReadAsync(connectionString, blueId);
        var greenRows = await MembershipTableReader.ReadAsync(connectionString, greenId);
        Assert.Equal("blue-silo", Assert.Single(blueRows).SiloName);
        Assert.Equal("green-silo", Assert.Single(greenRows).SiloName);
        var blueMembers = (await (await blueHttp.GetAsync("/api/members?all=true")).JsonAsync()).GetProperty("members");
        Assert.Equal("blue-silo", Assert.Single(blueMembers.EnumerateArray()).GetProperty("name").GetString());

        var cli = await CliProcess.RunAsync(["members", "--all", "--json", "--connection", connectionString, "--cluster-id", greenId]);
        Assert.True(cli.ExitCode == 0, cli.Stderr);
        var listed = JsonDocument.Parse(cli.Stdout).RootElement.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToList();
        Assert.Equal(["green-silo"], listed);
    }

    [Fact]
    public void The_service_id_defaults_to_the_cluster_id_and_an_explicit_one_wins()
    {
        Assert.Equal("shards", new ShardsClusterOptions().ServiceId);
        Assert.Equal("green", new ShardsClusterOptions { ClusterId = "green" }.ServiceId);
        Assert.Equal("green", new ShardsClusterOptions { ClusterId = "green", ServiceId = " " }.ServiceId);
        Assert.Equal("store", new ShardsClusterOptions { ClusterId = "green", ServiceId = "store" }.ServiceId);
    }

    private static string[] Settings(string clusterId, string siloName) =>
        [$"Shards:Cluster:ClusterId={clusterId}", "Shards:Cluster:ServiceId=", $"Shards:Silo:Name={siloName}", $"Shards:Api:Keys:0={Key}"];

    private static async Task Deactivate(HttpClient http, ApiSilo silo)
    {
        var grains = silo.App.Services.GetService(typeof(IGrainFactory)) as IGrainFactory ?? throw new InvalidOperationException("no grain factory");
        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
    }

    private static async Task<List<string>> StoredServiceIds(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT DISTINCT serviceid FROM orleans_storage", connection);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}
