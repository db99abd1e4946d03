using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Shards.Tests.Api;

/// <summary>
/// API key scopes: every route needs its scope (read, write, catalog, operator); a valid key without it gets a 403
/// problem that names the scope needed and the scopes the key has, and nothing is done. A plain key has every scope.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ApiScopeTests(ApiScopeSiloFixture fixture) : IClassFixture<ApiScopeSiloFixture>
{
    [Fact]
    public async Task A_read_key_reads_products_carts_and_orders_and_gets_403_on_every_change()
    {
        await ProductAsync("sku-scope-read", stock: 5);
        using var read = await fixture.ClientAsync(ApiScopeSiloFixture.ReadKey);

        var product = await read.GetAsync("/api/products/sku-scope-read");
        var cart = await read.GetAsync("/api/carts/cart-scope-read");
        var order = await read.GetAsync("/api/orders/order-scope-read-none");
        var put = await read.PutJsonAsync("/api/products/sku-scope-read", """{"name":"Changed","price":9,"stock":1}""");
        var add = await read.PostJsonAsync("/api/carts/cart-scope-read/items", """{"sku":"sku-scope-read","quantity":1}""");
        var checkout = await read.PostJsonAsync("/api/orders", """{"orderId":"order-scope-read","cartId":"cart-scope-read","paymentToken":"tok-visa"}""");
        var members = await read.GetAsync("/api/members");

        Assert.Equal(HttpStatusCode.OK, product.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cart.StatusCode);
        await order.AssertProblemAsync(404, "notFound");
        await put.AssertProblemAsync(403, "forbidden");
        await add.AssertProblemAsync(403, "forbidden");
        await checkout.AssertProblemAsync(403, "forbidden");
        await members.AssertProblemAsync(403, "forbidden");
        Assert.Equal("Thing", (await (await read.GetAsync("/api/products/sku-scope-read")).JsonAsync()).GetProperty("name").GetString());
        Assert.Empty((await (await read.GetAsync("/api/carts/cart-scope-read")).JsonAsync()).GetProperty("lines").EnumerateArray());
    }

    [Fact]
    public async Task A_shop_front_key_with_read_and_write_fills_a_cart_and_checks_out_but_gets_403_on_the_catalog_and_the_cluster()
    {
        await ProductAsync("sku-scope-shop", stock: 5);
        using var shop = await fixture.ClientAsync(ApiScopeSiloFixture.ShopKey);

        var add = await shop.PostJsonAsync("/api/carts/cart-scope-shop/items", """{"sku":"sku-scope-shop","quantity":2}""");
        var set = await shop.PutJsonAsync("/api/carts/cart-scope-shop/items/sku-scope-shop", """{"quantity":1}""");
        var checkout = await shop.PostJsonAsync("/api/orders", """{"orderId":"order-scope-shop","cartId":"cart-scope-shop","paymentToken":"tok-visa"}""");
        var put = await shop.PutJsonAsync("/api/products/sku-scope-shop", """{"name":"Changed","price":0.01,"stock":1}""");
        var release = await shop.PostJsonAsync("/api/products/sku-scope-shop/release", """{"quantity":1}""");
        var members = await shop.GetAsync("/api/members");
        var where = await shop.GetAsync("/api/where/cart/cart-scope-shop");

        Assert.Equal(HttpStatusCode.OK, add.StatusCode);
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(HttpStatusCode.Created, checkout.StatusCode);
        await put.AssertProblemAsync(403, "forbidden");
        await release.AssertProblemAsync(403, "forbidden");
        await members.AssertProblemAsync(403, "forbidden");
        await where.AssertProblemAsync(403, "forbidden");
        var product = await (await shop.GetAsync("/api/products/sku-scope-shop")).JsonAsync();
        Assert.Equal(2.5m, product.GetProperty("price").GetDecimal());
        Assert.Equal(4, product.GetProperty("stock").GetInt32());
    }

    [Fact]
    public async Task A_catalog_key_sets_prices_and_stock_and_gets_403_on_carts_and_reads()
    {
        using var catalog = await fixture.ClientAsync(ApiScopeSiloFixture.CatalogKey);

        var put = await catalog.PutJsonAsync("/api/products/sku-scope-catalog", """{"name":"Lamp","price":4,"stock":10}""");
        var reserve = await catalog.PostJsonAsync("/api/products/sku-scope-catalog/reserve", """{"quantity":3}""");
        var release = await catalog.PostJsonAsync("/api/products/sku-scope-catalog/release", """{"quantity":1}""");
        var read = await catalog.GetAsync("/api/products/sku-scope-catalog");
        var add = await catalog.PostJsonAsync("/api/carts/cart-scope-catalog/items", """{"sku":"sku-scope-catalog","quantity":1}""");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(HttpStatusCode.OK, reserve.StatusCode);
        Assert.Equal(HttpStatusCode.OK, release.StatusCode);
        Assert.Equal(8, (await release.JsonAsync()).GetProperty("stock").GetInt32());
        await read.AssertProblemAsync(403, "forbidden");
        await add.AssertProblemAsync(403, "forbidden");
    }

    [Fact]
    public async Task An_operator_key_sees_members_where_readiness_details_metrics_and_the_dashboard_but_not_the_store()
    {
        await ProductAsync("sku-scope-operator", stock: 1);
        using var operatorKey = await fixture.ClientAsync(ApiScopeSiloFixture.OperatorKey);
        using var browser = await fixture.ClientAsync(apiKey: null);
        browser.DefaultRequestHeaders.Authorization = Basic(ApiScopeSiloFixture.OperatorKey);

        var members = await operatorKey.GetAsync("/api/members");
        var where = await operatorKey.GetAsync("/api/where/product/sku-scope-operator");
        var ready = await (await operatorKey.GetAsync("/health/ready")).JsonAsync();
        var metrics = await operatorKey.GetAsync("/metrics");
        var dashboard = await browser.GetAsync("/dashboard/");
        var product = await operatorKey.GetAsync("/api/products/sku-scope-operator");

        Assert.Equal(HttpStatusCode.OK, members.StatusCode);
        Assert.Equal(HttpStatusCode.OK, where.StatusCode);
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("silo").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        await product.AssertProblemAsync(403, "forbidden");
    }

    [Fact]
    public async Task A_key_without_the_operator_scope_gets_readiness_status_only_and_403_on_metrics_and_the_dashboard()
    {
        using var read = await fixture.ClientAsync(ApiScopeSiloFixture.ReadKey);
        using var browser = await fixture.ClientAsync(apiKey: null);
        browser.DefaultRequestHeaders.Authorization = Basic(ApiScopeSiloFixture.ShopKey);

        var ready = await read.GetAsync("/health/ready");
        var readyBody = await ready.Content.ReadAsStringAsync();
        var metrics = await read.GetAsync("/metrics");
        var dashboard = await browser.GetAsync("/dashboard/");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("""{"status":"Healthy"}""", readyBody);
        Assert.Contains("'operator'", await metrics.AssertProblemAsync(403, "forbidden"), StringComparison.Ordinal);
        Assert.Contains("'operator'", await dashboard.AssertProblemAsync(403, "forbidden"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_403_problem_names_the_scope_the_route_needs_and_the_scopes_the_key_has()
    {
        using var shop = await fixture.ClientAsync(ApiScopeSiloFixture.ShopKey);

        var response = await shop.PutJsonAsync("/api/products/sku-scope-problem", """{"name":"Lamp","price":4,"stock":10}""");
        var detail = await response.AssertProblemAsync(403, "forbidden");
        var problem = await response.JsonAsync();

        Assert.Contains("'catalog'", detail, StringComparison.Ordinal);
        Assert.Contains("read, write", detail, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiScopeSiloFixture.ShopKey, detail, StringComparison.Ordinal);
        Assert.Equal("Forbidden", problem.GetProperty("title").GetString());
        Assert.StartsWith("https://", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal("PUT /api/products/sku-scope-problem", problem.GetProperty("instance").GetString());
        Assert.Equal("catalog", problem.GetProperty("requiredScope").GetString());
        Assert.Equal(["read", "write"], problem.GetProperty("keyScopes").EnumerateArray().Select(s => s.GetString()));
        using var all = await fixture.ClientAsync(ApiScopeSiloFixture.AllKey);
        await (await all.GetAsync("/api/products/sku-scope-problem")).AssertProblemAsync(404, "notFound");
    }

    [Fact]
    public async Task A_plain_key_has_every_scope_and_a_wrong_key_still_gets_401()
    {
        using var all = await fixture.ClientAsync(ApiScopeSiloFixture.AllKey);
        using var wrong = await fixture.ClientAsync("scope-key-unknown");

        var put = await all.PutJsonAsync("/api/products/sku-scope-all", """{"name":"Lamp","price":4,"stock":10}""");
        var add = await all.PostJsonAsync("/api/carts/cart-scope-all/items", """{"sku":"sku-scope-all","quantity":1}""");
        var read = await all.GetAsync("/api/products/sku-scope-all");
        var members = await all.GetAsync("/api/members");
        var ready = await (await all.GetAsync("/health/ready")).JsonAsync();
        var refused = await wrong.GetAsync("/api/products/sku-scope-all");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(HttpStatusCode.OK, add.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.OK, members.StatusCode);
        Assert.True(ready.TryGetProperty("checks", out _));
        await refused.AssertProblemAsync(401, "unauthorized");
    }

    private async Task ProductAsync(string sku, int stock)
    {
        using var all = await fixture.ClientAsync(ApiScopeSiloFixture.AllKey);
        var put = await all.PutJsonAsync($"/api/products/{sku}", JsonSerializer.Serialize(new { name = "Thing", price = 2.5m, stock }));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
    }

    private static AuthenticationHeaderValue Basic(string key) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"any-user:{key}")));
}
