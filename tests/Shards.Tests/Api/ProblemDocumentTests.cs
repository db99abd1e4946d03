using System.Net;
using System.Text;

namespace Shards.Tests.Api;

/// <summary>
/// Every problem document the API answers has the same members (type, title, status, detail, instance, code), whoever
/// raised it: no route, a method the route does not take (405 with Allow, never 415), a missing body or a null field
/// (400 in Shards' words, never the framework's).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ProblemDocumentTests(ApiSiloFixture fixture) : IClassFixture<ApiSiloFixture>
{
    [Theory]
    [InlineData("/api/nothing-here")]
    [InlineData("/api/products/sku-1/nothing")]
    [InlineData("/nothing-here")]
    public async Task A_route_that_does_not_exist_is_a_404_problem_with_a_code(string path)
    {
        using var client = await fixture.ClientAsync();

        var response = await client.GetAsync(path);

        Assert.Contains($"No route matches GET {path}", await response.AssertProblemAsync(404, "notFound"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DELETE", "/api/orders", "POST", null)]
    [InlineData("PUT", "/api/orders", "POST", "application/json")]
    [InlineData("DELETE", "/api/members", "GET", null)]
    [InlineData("PUT", "/api/products/sku-405/reserve", "POST", "application/json")]
    [InlineData("PUT", "/api/products/sku-405/reserve", "POST", "text/plain")]
    [InlineData("PUT", "/api/products/sku-405/reserve", "POST", null)]
    [InlineData("POST", "/api/products/sku-405", "PUT", "application/json")]
    [InlineData("DELETE", "/api/products/sku-405", "PUT", null)]
    [InlineData("PATCH", "/api/carts/cart-405/items", "POST", "application/json")]
    public async Task A_method_the_route_does_not_take_is_a_405_problem_with_allow(string method, string path, string allowed, string? contentType)
    {
        using var client = await fixture.ClientAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (contentType is not null)
        {
            request.Content = new StringContent("""{"quantity":1}""", Encoding.UTF8, contentType);
        }

        var response = await client.SendAsync(request);

        var detail = await response.AssertProblemAsync(405, "methodNotAllowed");
        Assert.Contains(allowed, response.Content.Headers.Allow);
        Assert.Contains($"{method} is not allowed on {path}", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PUT", "/api/products/sku-nobody", """{"name":""")]
    [InlineData("POST", "/api/products/sku-nobody/reserve", """{"quantity":1}""")]
    [InlineData("POST", "/api/carts/cart-nobody/items", """{"sku":"sku-1001","quantity":1}""")]
    [InlineData("POST", "/api/orders", """{"orderId":"order-1001","cartId":"cart-1001","paymentToken":"tok-visa"}""")]
    public async Task A_missing_body_is_a_400_problem_that_shows_a_body_to_send(string method, string path, string example)
    {
        using var client = await fixture.ClientAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(string.Empty, Encoding.UTF8, "application/json") };

        var response = await client.SendAsync(request);

        var detail = await response.AssertProblemAsync(400, "validation");
        Assert.StartsWith($"The request body is missing: {method} {path} takes a JSON object like ", detail, StringComparison.Ordinal);
        Assert.Contains(example, detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Implicit body", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/products/sku-null", """{"name":null,"price":1,"stock":2}""", "name is required")]
    [InlineData("/api/products/sku-null", """{"price":1,"stock":2}""", "name is required")]
    [InlineData("/api/products/sku-null", """{"name":"Lamp"}""", "price and stock are required")]
    public async Task A_required_field_missing_or_null_is_a_400_problem_that_names_it(string path, string body, string expected)
    {
        using var client = await fixture.ClientAsync();

        var response = await client.PutJsonAsync(path, body);

        var detail = await response.AssertProblemAsync(400, "validation");
        Assert.StartsWith(expected, detail, StringComparison.Ordinal);
        Assert.Contains("""{"name":"Desk lamp","price":12.50,"stock":10}""", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("nullability annotation", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Shards.Api", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_problem_from_an_endpoint_has_the_same_members_as_one_from_the_framework()
    {
        using var client = await fixture.ClientAsync();

        var invalid = await client.GetAsync("/api/orders/12");
        var missing = await client.GetAsync("/api/orders/order-never-made");

        Assert.Contains("An order ID is", await invalid.AssertProblemAsync(400, "validation"), StringComparison.Ordinal);
        Assert.Contains("order-never-made", await missing.AssertProblemAsync(404, "notFound"), StringComparison.Ordinal);
    }
}
