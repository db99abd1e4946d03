using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Shards.Cli.Core;
using Shards.Contracts.Orders;
using Shards.Json;

namespace Shards.Tests.Api;

/// <summary>Checkout and orders over HTTP on a real silo: 201/200 with the order, 400/404/409 problems, Idempotency-Key.</summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class OrderApiTests(ApiSiloFixture fixture) : IClassFixture<ApiSiloFixture>
{
    [Fact]
    public async Task A_checkout_answers_201_with_the_paid_order_and_a_repeat_answers_200_with_the_same_order()
    {
        using var client = await fixture.ClientAsync();
        await CartAsync(client, "cart-api-paid", "sku-api-paid", stock: 10, quantity: 3);
        const string Body = """{"orderId":"order-api-paid","cartId":"cart-api-paid","paymentToken":"tok-visa"}""";

        var created = await client.PostJsonAsync("/api/orders", Body);
        var repeated = await client.PostJsonAsync("/api/orders", Body);
        var read = await client.GetAsync("/api/orders/order-api-paid");
        var cart = await (await client.GetAsync("/api/carts/cart-api-paid")).JsonAsync();
        var product = await (await client.GetAsync("/api/products/sku-api-paid")).JsonAsync();

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/orders/order-api-paid", created.Headers.Location?.OriginalString);
        var order = await created.JsonAsync();
        Assert.Equal("paid", order.GetProperty("status").GetString());
        Assert.Equal("completed", order.GetProperty("stage").GetString());
        Assert.Equal(7.5m, order.GetProperty("total").GetDecimal());
        Assert.Contains(order.GetProperty("steps").EnumerateArray(), s => s.GetProperty("step").GetString() == "paid");
        Assert.Equal(HttpStatusCode.OK, repeated.StatusCode);
        Assert.Equal(order.GetProperty("steps").GetRawText(), (await repeated.JsonAsync()).GetProperty("steps").GetRawText());
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("paid", (await read.JsonAsync()).GetProperty("status").GetString());
        Assert.Empty(cart.GetProperty("lines").EnumerateArray());
        Assert.Equal(7, product.GetProperty("stock").GetInt32());
        Assert.Equal(3, product.GetProperty("sold").GetInt64());
    }

    [Fact]
    public async Task A_declined_payment_is_a_created_order_that_failed_with_its_reason()
    {
        using var client = await fixture.ClientAsync();
        await CartAsync(client, "cart-api-declined", "sku-api-declined", stock: 5, quantity: 2);

        var response = await client.PostJsonAsync("/api/orders", """{"orderId":"order-api-declined","cartId":"cart-api-declined","paymentToken":"tok-decline"}""");
        var product = await (await client.GetAsync("/api/products/sku-api-declined")).JsonAsync();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var order = await response.JsonAsync();
        Assert.Equal("failed", order.GetProperty("status").GetString());
        Assert.Contains("declined", order.GetProperty("failureReason").GetString(), StringComparison.Ordinal);
        Assert.Equal(5, product.GetProperty("stock").GetInt32());
        Assert.Equal(0, product.GetProperty("reserved").GetInt32());
    }

    [Theory]
    [InlineData("""{"orderId":"12","cartId":"cart-api-bad","paymentToken":"tok-visa"}""", "Invalid order ID")]
    [InlineData("""{"orderId":"order-api-bad","cartId":"cart api","paymentToken":"tok-visa"}""", "Invalid cart ID")]
    [InlineData("""{"orderId":"order-api-bad","cartId":"cart-api-bad","paymentToken":"4111 1111"}""", "Invalid payment token")]
    [InlineData("""{"orderId":"order-api-bad","cartId":"cart-api-bad"}""", "paymentToken")]
    public async Task Bad_checkout_input_is_a_400_problem_and_creates_no_order(string body, string expected)
    {
        using var client = await fixture.ClientAsync();

        var response = await client.PostJsonAsync("/api/orders", body);

        Assert.Contains(expected, await response.AssertProblemAsync(400, "validation"), StringComparison.Ordinal);
        await (await client.GetAsync("/api/orders/order-api-bad")).AssertProblemAsync(404, "notFound");
    }

    [Fact]
    public async Task An_empty_cart_and_an_order_id_taken_by_another_cart_are_409_problems()
    {
        using var client = await fixture.ClientAsync();
        await CartAsync(client, "cart-api-taken", "sku-api-taken", stock: 5, quantity: 1);
        await client.PostJsonAsync("/api/orders", """{"orderId":"order-api-taken","cartId":"cart-api-taken","paymentToken":"tok-visa"}""");

        var empty = await client.PostJsonAsync("/api/orders", """{"orderId":"order-api-empty","cartId":"cart-api-never-filled","paymentToken":"tok-visa"}""");
        var taken = await client.PostJsonAsync("/api/orders", """{"orderId":"order-api-taken","cartId":"cart-api-other","paymentToken":"tok-visa"}""");

        Assert.Contains("empty", await empty.AssertProblemAsync(409, "conflict"), StringComparison.Ordinal);
        Assert.Contains("already exists for cart cart-api-taken", await taken.AssertProblemAsync(409, "conflict"), StringComparison.Ordinal);
        await (await client.GetAsync("/api/orders/order-api-empty")).AssertProblemAsync(404, "notFound");
    }

    [Fact]
    public async Task A_checkout_resent_with_its_idempotency_key_replays_201_and_charges_once()
    {
        using var client = await fixture.ClientAsync();
        await CartAsync(client, "cart-api-key", "sku-api-key", stock: 10, quantity: 4);
        var key = Guid.NewGuid();
        const string Body = """{"orderId":"order-api-key","cartId":"cart-api-key","paymentToken":"tok-visa"}""";

        var first = await client.PostJsonAsync("/api/orders", Body, key);
        var resent = await client.PostJsonAsync("/api/orders", Body, key);
        var product = await (await client.GetAsync("/api/products/sku-api-key")).JsonAsync();

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, resent.StatusCode);
        Assert.Equal((await first.JsonAsync()).GetRawText(), (await resent.JsonAsync()).GetRawText());
        Assert.Equal(4, product.GetProperty("sold").GetInt64());
        Assert.Equal(6, product.GetProperty("stock").GetInt32());
    }

    [Fact]
    public async Task An_order_shows_the_last_characters_of_its_payment_token_never_the_token()
    {
        using var client = await fixture.ClientAsync();
        await CartAsync(client, "cart-api-token", "sku-api-token", stock: 10, quantity: 1);
        await CartAsync(client, "cart-api-token-declined", "sku-api-token-declined", stock: 10, quantity: 1);
        const string Paid = "tok-card-secret-4242";
        const string Declined = "tok-decline-secret-9876";

        var created = await client.PostJsonAsync("/api/orders", $$"""{"orderId":"order-api-token","cartId":"cart-api-token","paymentToken":"{{Paid}}"}""");
        var repeated = await client.PostJsonAsync("/api/orders", $$"""{"orderId":"order-api-token","cartId":"cart-api-token","paymentToken":"{{Paid}}"}""");
        var read = await client.GetAsync("/api/orders/order-api-token");
        var failed = await client.PostJsonAsync("/api/orders", $$"""{"orderId":"order-api-token-declined","cartId":"cart-api-token-declined","paymentToken":"{{Declined}}"}""");
        var readFailed = await client.GetAsync("/api/orders/order-api-token-declined");

        foreach (var (response, token, hint) in new[] { (created, Paid, "****4242"), (repeated, Paid, "****4242"), (read, Paid, "****4242"), (failed, Declined, "****9876"), (readFailed, Declined, "****9876") })
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            Assert.DoesNotContain(token, body, StringComparison.Ordinal);
            Assert.DoesNotContain("secret", body, StringComparison.Ordinal);
            var order = JsonDocument.Parse(body).RootElement;
            Assert.False(order.TryGetProperty("paymentToken", out _), body);
            Assert.Equal(hint, order.GetProperty("paymentTokenHint").GetString());
        }

        var declined = await readFailed.JsonAsync();
        Assert.Equal("failed", declined.GetProperty("status").GetString());
        Assert.Contains("declined", declined.GetProperty("failureReason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_order_over_http_is_the_same_json_as_shards_order_get_json_prints()
    {
        using var client = await fixture.ClientAsync();
        await CartAsync(client, "cart-api-shape", "sku-api-shape", stock: 4, quantity: 1);

        var created = await client.PostJsonAsync("/api/orders", """{"orderId":"order-api-shape","cartId":"cart-api-shape","paymentToken":"tok-decline"}""");
        var http = await created.Content.ReadAsStringAsync();
        var view = await fixture.Silo.App.Services.GetRequiredService<IGrainFactory>().GetGrain<ICheckoutGrain>("order-api-shape").GetAsync();
        var cli = CliOutput.ToJson(OrderDocument.From(view!));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(http), JsonNode.Parse(cli)), $"HTTP: {http}\nCLI: {cli}");
        Assert.Equal("failed", JsonNode.Parse(http)!["status"]!.GetValue<string>());
    }

    private static async Task CartAsync(HttpClient client, string cart, string sku, int stock, int quantity)
    {
        Assert.Equal(HttpStatusCode.OK, (await client.PutJsonAsync($"/api/products/{sku}", $$"""{"name":"Thing","price":2.5,"stock":{{stock}}}""")).StatusCode);
        var added = await client.PostJsonAsync($"/api/carts/{cart}/items", JsonSerializer.Serialize(new { sku, quantity }));
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
    }
}
