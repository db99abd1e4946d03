using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Shards.Cli.Commands;
using Shards.Cli.Core;
using Shards.Postgres;

namespace Shards.Tests.Api;

/// <summary>
/// The HTTP API over a real silo (in process, test server instead of Kestrel): authentication, validation as RFC 7807
/// problem details that change nothing, 404/409 mapping, idempotent retries, members, where, OpenAPI.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class HttpApiTests(ApiSiloFixture fixture) : IClassFixture<ApiSiloFixture>
{
    [Fact]
    public async Task A_request_without_an_api_key_gets_401_problem_details_while_health_needs_none()
    {
        using var anonymous = await fixture.ClientAsync(apiKey: null);

        var refused = await anonymous.GetAsync("/api/products/sku-auth");
        var detail = await refused.AssertProblemAsync(401, "unauthorized");
        var live = await anonymous.GetAsync("/health/live");
        var ready = await anonymous.GetAsync("/health/ready");

        Assert.Contains("X-Api-Key", detail, StringComparison.Ordinal);
        Assert.Equal("ApiKey", refused.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("api-silo", refused.Silo());
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", (await ready.JsonAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_wrong_api_key_gets_401_and_either_configured_key_gets_200()
    {
        using var wrong = await fixture.ClientAsync("not-a-key");
        using var first = await fixture.ClientAsync(ApiSiloFixture.Key);
        using var second = await fixture.ClientAsync(ApiSiloFixture.OtherKey);
        await first.PutJsonAsync("/api/products/sku-keys", """{"name":"Key ring","price":3.5,"stock":4}""");

        var detail = await (await wrong.GetAsync("/api/products/sku-keys")).AssertProblemAsync(401, "unauthorized");
        var withFirst = await first.GetAsync("/api/products/sku-keys");
        var withSecond = await second.GetAsync("/api/products/sku-keys");

        Assert.Contains("not valid", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-key", detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, withFirst.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withSecond.StatusCode);
    }

    [Fact]
    public async Task Products_are_created_read_reserved_and_released_as_camel_case_json()
    {
        using var client = await fixture.ClientAsync();

        var created = await client.PutJsonAsync("/api/products/sku-http-lamp", """{"name":"Desk lamp","price":24.90,"stock":12}""");
        var reserved = await client.PostJsonAsync("/api/products/sku-http-lamp/reserve", """{"quantity":5}""");
        var released = await client.PostJsonAsync("/api/products/sku-http-lamp/release", """{"quantity":2}""");
        var read = await (await client.GetAsync("/api/products/sku-http-lamp")).JsonAsync();

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Equal(7, (await reserved.JsonAsync()).GetProperty("stock").GetInt32());
        Assert.Equal(9, (await released.JsonAsync()).GetProperty("stock").GetInt32());
        Assert.Equal("sku-http-lamp", read.GetProperty("sku").GetString());
        Assert.Equal("Desk lamp", read.GetProperty("name").GetString());
        Assert.Equal(24.90m, read.GetProperty("price").GetDecimal());
        Assert.Equal(9, read.GetProperty("stock").GetInt32());
        Assert.Equal(3, read.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task Carts_take_added_set_and_removed_lines_and_can_be_emptied()
    {
        using var client = await fixture.ClientAsync();
        await client.PutJsonAsync("/api/products/sku-http-cup", """{"name":"Cup","price":2.5,"stock":100}""");
        await client.PutJsonAsync("/api/products/sku-http-pot", """{"name":"Pot","price":10,"stock":100}""");

        await client.PostJsonAsync("/api/carts/cart-http-1/items", """{"sku":"sku-http-cup","quantity":2}""");
        await client.PostJsonAsync("/api/carts/cart-http-1/items", """{"sku":"sku-http-pot","quantity":1}""");
        var set = await (await client.PutJsonAsync("/api/carts/cart-http-1/items/sku-http-cup", """{"quantity":4}""")).JsonAsync();
        var removed = await (await client.DeleteAsync("/api/carts/cart-http-1/items/sku-http-pot")).JsonAsync();
        var missingLine = await client.DeleteAsync("/api/carts/cart-http-1/items/sku-http-pot");
        var cleared = await (await client.DeleteAsync("/api/carts/cart-http-1")).JsonAsync();

        Assert.Equal(20m, set.GetProperty("total").GetDecimal());
        var line = Assert.Single(removed.GetProperty("lines").EnumerateArray());
        Assert.Equal(4, line.GetProperty("quantity").GetInt32());
        Assert.Equal(10m, line.GetProperty("lineTotal").GetDecimal());
        await missingLine.AssertProblemAsync(404, "notFound");
        Assert.Empty(cleared.GetProperty("lines").EnumerateArray());
    }

    [Theory]
    [InlineData("/api/products/12", "hexadecimal")]
    [InlineData("/api/products/sku%20space", "not allowed")]
    [InlineData("/api/carts/-cart/items/sku-1", "start with a letter or digit")]
    [InlineData("/api/where/planet/sku-1", "Unknown kind")]
    public async Task A_malformed_id_in_the_path_is_a_400_problem_that_says_what_is_wrong(string path, string expected)
    {
        using var client = await fixture.ClientAsync();

        var response = path.Contains("/carts/", StringComparison.Ordinal)
            ? await client.PutJsonAsync(path, """{"quantity":1}""")
            : await client.GetAsync(path);

        Assert.Contains(expected, await response.AssertProblemAsync(400, "validation"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_negative_quantity_is_a_400_problem_and_changes_nothing()
    {
        using var client = await fixture.ClientAsync();
        await client.PutJsonAsync("/api/products/sku-http-neg", """{"name":"Bowl","price":4,"stock":10}""");

        var reserve = await client.PostJsonAsync("/api/products/sku-http-neg/reserve", """{"quantity":-3}""");
        var add = await client.PostJsonAsync("/api/carts/cart-http-neg/items", """{"sku":"sku-http-neg","quantity":-1}""");

        Assert.Contains("at least 1", await reserve.AssertProblemAsync(400, "validation"), StringComparison.Ordinal);
        Assert.Contains("at least 1", await add.AssertProblemAsync(400, "validation"), StringComparison.Ordinal);
        Assert.Equal(10, (await (await client.GetAsync("/api/products/sku-http-neg")).JsonAsync()).GetProperty("stock").GetInt32());
        Assert.Equal(0, (await (await client.GetAsync("/api/carts/cart-http-neg")).JsonAsync()).GetProperty("version").GetInt64());
    }

    [Theory]
    [InlineData("""{"name":"Lamp","price":1,""", "not valid JSON")]
    [InlineData("""{"name":"Lamp","price":1}""", "stock is required")]
    [InlineData("""{"name":"Lamp","price":1,"stock":2,"colour":"red"}""", "'colour'")]
    [InlineData("""{"name":null,"price":1,"stock":2}""", "name is required")]
    [InlineData("""{"name":"Lamp","price":"cheap","stock":2}""", "price")]
    public async Task A_body_that_is_not_the_expected_json_is_a_400_problem_and_changes_nothing(string body, string expected)
    {
        using var client = await fixture.ClientAsync();

        var response = await client.PutJsonAsync("/api/products/sku-http-badjson", body);

        Assert.Contains(expected, await response.AssertProblemAsync(400, "validation"), StringComparison.Ordinal);
        await (await client.GetAsync("/api/products/sku-http-badjson")).AssertProblemAsync(404, "notFound");
    }

    [Fact]
    public async Task A_body_that_is_not_json_gets_415_with_what_to_send()
    {
        using var client = await fixture.ClientAsync();

        var response = await client.PutAsync("/api/products/sku-http-text", new StringContent("name=Lamp", Encoding.UTF8, "text/plain"));

        Assert.Contains("application/json", await response.AssertProblemAsync(415, "unsupportedMediaType"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_64_KB_gets_413_and_changes_nothing()
    {
        using var client = await fixture.ClientAsync();
        var huge = JsonSerializer.Serialize(new { name = new string('x', 70_000), price = 1, stock = 1 });

        var response = await client.PutJsonAsync("/api/products/sku-http-huge", huge);

        Assert.Contains("at most 65,536 bytes", await response.AssertProblemAsync(413, "payloadTooLarge"), StringComparison.Ordinal);
        await (await client.GetAsync("/api/products/sku-http-huge")).AssertProblemAsync(404, "notFound");
    }

    [Fact]
    public async Task An_unknown_product_is_a_404_problem()
    {
        using var client = await fixture.ClientAsync();

        var read = await client.GetAsync("/api/products/sku-http-never");
        var reserve = await client.PostJsonAsync("/api/products/sku-http-never/reserve", """{"quantity":1}""");
        var addToCart = await client.PostJsonAsync("/api/carts/cart-http-404/items", """{"sku":"sku-http-never","quantity":1}""");

        Assert.Contains("sku-http-never", await read.AssertProblemAsync(404, "notFound"), StringComparison.Ordinal);
        await reserve.AssertProblemAsync(404, "notFound");
        await addToCart.AssertProblemAsync(404, "notFound");
    }

    [Fact]
    public async Task Reserving_more_than_the_stock_is_a_409_problem_and_changes_nothing()
    {
        using var client = await fixture.ClientAsync();
        await client.PutJsonAsync("/api/products/sku-http-few", """{"name":"Rare","price":99,"stock":2}""");

        var response = await client.PostJsonAsync("/api/products/sku-http-few/reserve", """{"quantity":3}""");

        Assert.Contains("only 2 in stock", await response.AssertProblemAsync(409, "conflict"), StringComparison.Ordinal);
        Assert.Equal(2, (await (await client.GetAsync("/api/products/sku-http-few")).JsonAsync()).GetProperty("stock").GetInt32());
    }

    [Fact]
    public async Task A_post_retried_with_the_same_idempotency_key_is_applied_once()
    {
        using var client = await fixture.ClientAsync();
        await client.PutJsonAsync("/api/products/sku-http-idem", """{"name":"Once","price":1,"stock":10}""");
        var key = Guid.NewGuid();

        var first = await client.PostJsonAsync("/api/products/sku-http-idem/reserve", """{"quantity":3}""", key);
        var retried = await client.PostJsonAsync("/api/products/sku-http-idem/reserve", """{"quantity":3}""", key);
        var other = await client.PostJsonAsync("/api/products/sku-http-idem/reserve", """{"quantity":3}""");
        var third = await client.PostJsonAsync("/api/products/sku-http-idem/reserve", """{"quantity":3}""");
        var malformed = new HttpRequestMessage(HttpMethod.Post, "/api/products/sku-http-idem/reserve") { Content = Http.Json("""{"quantity":3}""") };
        malformed.Headers.Add("Idempotency-Key", new string('k', 256));

        Assert.Equal(7, (await first.JsonAsync()).GetProperty("stock").GetInt32());
        Assert.Equal(7, (await retried.JsonAsync()).GetProperty("stock").GetInt32());
        Assert.Equal(first.Headers.GetValues("X-Shards-Request-Id").Single(), retried.Headers.GetValues("X-Shards-Request-Id").Single());
        Assert.NotEqual(first.Headers.GetValues("X-Shards-Request-Id").Single(), other.Headers.GetValues("X-Shards-Request-Id").Single());
        Assert.Equal(4, (await other.JsonAsync()).GetProperty("stock").GetInt32());
        Assert.Equal(1, (await third.JsonAsync()).GetProperty("stock").GetInt32());
        Assert.Contains("1-255 printable ASCII characters", await (await client.SendAsync(malformed)).AssertProblemAsync(400, "validation"), StringComparison.Ordinal);
        Assert.Equal(1, (await (await client.GetAsync("/api/products/sku-http-idem")).JsonAsync()).GetProperty("stock").GetInt32());
    }

    [Fact]
    public async Task Members_and_where_name_the_silo_that_serves()
    {
        using var client = await fixture.ClientAsync();
        await client.PutJsonAsync("/api/products/sku-http-where", """{"name":"Map","price":5,"stock":1}""");

        var members = await (await client.GetAsync("/api/members")).JsonAsync();
        var where = await (await client.GetAsync("/api/where/product/sku-http-where")).JsonAsync();

        Assert.Equal("api-silo", members.GetProperty("servedBy").GetString());
        var self = Assert.Single(members.GetProperty("members").EnumerateArray());
        Assert.Equal("active", self.GetProperty("status").GetString());
        Assert.True(self.GetProperty("servedThisRequest").GetBoolean());
        Assert.Equal("product/sku-http-where", where.GetProperty("grainId").GetString());
        Assert.Equal("api-silo", where.GetProperty("siloName").GetString());
    }

    [Fact]
    public async Task A_member_over_http_has_the_names_and_values_shards_members_json_prints_for_it()
    {
        using var client = await fixture.ClientAsync();
        var clusterId = fixture.Silo.App.Services.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId;

        var http = (await (await client.GetAsync("/api/members")).JsonAsync()).GetProperty("members").EnumerateArray().Single();
        var row = Assert.Single(await MembershipTableReader.ReadAsync(fixture.Silo.ConnectionString, clusterId), r => r.Status == SiloStatusCode.Active);
        var cli = JsonNode.Parse(CliOutput.ToJson(MembersCommand.Document(row, local: null)))!.AsObject();

        foreach (var member in (string[])["name", "address", "generation", "siloAddress", "status"])
        {
            Assert.Equal(cli[member]!.ToJsonString(), http.GetProperty(member).GetRawText());
        }

        Assert.Equal("active", http.GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_openapi_document_lists_every_route()
    {
        using var client = await fixture.ClientAsync();

        var document = await (await client.GetAsync("/openapi/v1.json")).JsonAsync();

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal("Shards HTTP API", document.GetProperty("info").GetProperty("title").GetString());
        Assert.Contains("/api/products/{sku}", paths);
        Assert.Contains("/api/products/{sku}/reserve", paths);
        Assert.Contains("/api/products/{sku}/release", paths);
        Assert.Contains("/api/carts/{cartId}", paths);
        Assert.Contains("/api/carts/{cartId}/items", paths);
        Assert.Contains("/api/carts/{cartId}/items/{sku}", paths);
        Assert.Contains("/api/members", paths);
        Assert.Contains("/api/where/{kind}/{id}", paths);
    }

    [Fact]
    public async Task The_openapi_document_describes_an_order_with_a_payment_token_hint_and_every_route_with_its_scope_and_403()
    {
        using var client = await fixture.ClientAsync();

        var document = await (await client.GetAsync("/openapi/v1.json")).JsonAsync();

        var getOrder = document.GetProperty("paths").GetProperty("/api/orders/{orderId}").GetProperty("get");
        var reference = getOrder.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json")
            .GetProperty("schema").GetProperty("$ref").GetString()!;
        var order = document.GetProperty("components").GetProperty("schemas").GetProperty(reference.Split('/')[^1]).GetProperty("properties");
        Assert.True(order.TryGetProperty("paymentTokenHint", out _), order.GetRawText());
        Assert.False(order.TryGetProperty("paymentToken", out _), order.GetRawText());
        Assert.True(getOrder.GetProperty("responses").TryGetProperty("403", out _));
        Assert.Contains("'read'", getOrder.GetProperty("description").GetString(), StringComparison.Ordinal);
        var putProduct = document.GetProperty("paths").GetProperty("/api/products/{sku}").GetProperty("put");
        Assert.Contains("'catalog'", putProduct.GetProperty("description").GetString(), StringComparison.Ordinal);
    }
}
