using System.Net;
using System.Text;
using System.Text.Json;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Api;

/// <summary>
/// A generated corpus of bad requests (malformed and hostile IDs, broken and hostile JSON, missing and unknown fields,
/// negative and overflowing numbers, wrong content types, huge bodies, control and non-ASCII characters, bad headers)
/// against a real silo's HTTP API: every one gets a 4xx problem document with a message, none a 5xx, and the store
/// is exactly as before. The API runs on the real Kestrel server, so that the requests go through its HTTP parser.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ApiFuzzTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Key = "fuzz-key";
    private const string Sku = "sku-fuzz-1";
    private const string Cart = "cart-fuzz-1";

    [Fact(Timeout = 180_000)]
    public async Task Every_bad_request_gets_a_4xx_problem_with_a_message_and_changes_nothing()
    {
        await using var silo = ApiSilo.StartOnKestrel(await TestPostgres.CreateDatabaseAsync("fuzz"), $"Shards:Api:Keys:0={Key}", "Shards:Api:RateLimit:Enabled=false");
        await silo.Started;
        using var http = await silo.ClientAsync(Key);
        Assert.Equal(HttpStatusCode.OK, (await http.PutJsonAsync($"/api/products/{Sku}", """{"name":"Fuzz box","price":4.5,"stock":10}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.PostJsonAsync($"/api/carts/{Cart}/items", $$"""{"sku":"{{Sku}}","quantity":2}""")).StatusCode);
        var before = await SnapshotAsync(http);

        var corpus = Corpus().ToList();
        var problems = new List<string>();
        foreach (var bad in corpus)
        {
            using var request = bad.ToRequest();
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            if (status == 400 && body.Length == 0 && bad.Path.Contains("%00", StringComparison.Ordinal))
            {
                continue; // Kestrel's HTTP parser refuses a NUL in the path itself, before the API sees the request
            }

            if (status is < 400 or > 499)
            {
                problems.Add($"{bad}: {status} {Shorten(body)}");
            }
            else if (response.Content.Headers.ContentType?.MediaType != "application/problem+json" || !HasDetail(body))
            {
                problems.Add($"{bad}: {status} without a problem document with a detail: {Shorten(body)}");
            }
            else if (body.Contains("   at ", StringComparison.Ordinal) || body.Contains("Exception", StringComparison.Ordinal) && !body.Contains("code", StringComparison.Ordinal))
            {
                problems.Add($"{bad}: {status} shows internals: {Shorten(body)}");
            }
        }

        var after = await SnapshotAsync(http);
        output.WriteLine($"{corpus.Count} bad requests sent");
        Assert.True(corpus.Count > 150, $"only {corpus.Count} requests in the corpus");
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.Equal(before, after);
    }

    private static bool HasDetail(string body)
    {
        try
        {
            using var problem = JsonDocument.Parse(body);
            return problem.RootElement.TryGetProperty("detail", out var detail) && detail.GetString() is { Length: > 10 };
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The product, the cart, and the list of products' and carts' versions the corpus aims at.</summary>
    private static async Task<string> SnapshotAsync(HttpClient http)
    {
        var product = await (await http.GetAsync($"/api/products/{Sku}")).Content.ReadAsStringAsync();
        var cart = await (await http.GetAsync($"/api/carts/{Cart}")).Content.ReadAsStringAsync();
        var other = await http.GetAsync("/api/products/sku-fuzz-other");
        return $"{product}\n{cart}\n{(int)other.StatusCode}";
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "...";

    private static IEnumerable<BadRequest> Corpus()
    {
        string[] badIds =
        [
            " ", "a b", "%20sku", "sku%00", "sku%0A", "sku%0D%0Aset-cookie:x", "sku%09", "sku%2F1", "..", "-sku", "_sku", ".sku",
            "sku!", "sku%22", "sku'", "sku%3C", "%C3%A9t%C3%A9", "%EF%BD%93ku", "%F0%9F%98%80", "%E2%80%AEsku", "sku%E2%80%8B", "1001", "abc",
            "DEADBEEF", new string('s', 65), new string('x', 5000), "sku%25", "sku%5C", "%FF%FE", "sku;drop", "sku*",
        ];
        foreach (var id in badIds)
        {
            if (id.Trim().Length > 0)
            {
                yield return new BadRequest("GET", $"/api/products/{id}"); // "/api/products/ " is sent as the listing, /api/products/
            }

            yield return new BadRequest("GET", $"/api/orders?after={id}");
            yield return new BadRequest("PUT", $"/api/products/{id}", """{"name":"x","price":1,"stock":1}""");
            yield return new BadRequest("POST", $"/api/products/{id}/reserve", """{"quantity":1}""");
            yield return new BadRequest("POST", $"/api/carts/{id}/items", $$"""{"sku":"{{Sku}}","quantity":1}""");
            yield return new BadRequest("POST", $"/api/carts/{Cart}/items", $$"""{"sku":{{JsonSerializer.Serialize(Uri.UnescapeDataString(id))}},"quantity":1}""");
            yield return new BadRequest("PUT", $"/api/carts/{Cart}/items/{id}", """{"quantity":1}""");
            yield return new BadRequest("DELETE", $"/api/carts/{id}");
            yield return new BadRequest("GET", $"/api/where/product/{id}");
        }

        string[] badProducts =
        [
            "", "{", "}", "null", "[]", "\"text\"", "42", "{}", """{"name":"x"}""", """{"price":1,"stock":1}""", """{"name":"x","price":1}""",
            """{"name":null,"price":1,"stock":1}""", """{"name":"x","price":null,"stock":1}""", """{"name":"x","price":1,"stock":null}""",
            """{"name":"x","price":1,"stock":1,"extra":true}""", """{"Name":"x","Price":1,"Stock":1,"sku":"other"}""",
            """{"name":"x","price":"1","stock":1}""", """{"name":"x","price":1,"stock":"1"}""", """{"name":1,"price":1,"stock":1}""",
            """{"name":"x","price":-1,"stock":1}""", """{"name":"x","price":1,"stock":-1}""", """{"name":"x","price":1000000.01,"stock":1}""",
            """{"name":"x","price":1.001,"stock":1}""", """{"name":"x","price":1e400,"stock":1}""", """{"name":"x","price":79228162514264337593543950336,"stock":1}""",
            """{"name":"x","price":1,"stock":2147483648}""", """{"name":"x","price":1,"stock":-2147483649}""", """{"name":"x","price":1,"stock":1000000001}""",
            """{"name":"x","price":1,"stock":1.5}""", """{"name":"x","price":1,"stock":1e3}""", """{"name":"x","price":NaN,"stock":1}""",
            """{"name":"x","price":Infinity,"stock":1}""", """{"name":"","price":1,"stock":1}""", """{"name":"   ","price":1,"stock":1}""",
            """{"name":"a\u0000b","price":1,"stock":1}""", """{"name":"line\nbreak","price":1,"stock":1}""", """{"name":"tab\there","price":1,"stock":1}""",
            $$"""{"name":"{{new string('n', 201)}}","price":1,"stock":1}""", """{"name":"x","price":1,"stock":1}garbage""",
            """{"name":"x","price":1,"stock":1,"name":"y"}""", """{"name":"\ud800","price":1,"stock":1}""", """{'name':'x','price':1,'stock':1}""",
            """{"name":"x","price":1,"stock":1,}""", """{"name":"x",/*c*/"price":1,"stock":1}""",
            new string('[', 5000) + new string(']', 5000), "{\"a\":" + string.Concat(Enumerable.Repeat("{\"a\":", 300)) + "1" + new string('}', 301),
        ];
        foreach (var body in badProducts)
        {
            yield return new BadRequest("PUT", $"/api/products/{Sku}", body);
        }

        // Bad for every quantity; then bad for a line (at most 10000 units; a PUT of 0 removes the line, so it is valid there).
        string[] badQuantities = ["-1", "-2147483648", "2147483648", "99999999999999999999", "1.5", "\"1\"", "true", "null", "[]", "{}", "1e2", "0x10", "+1", "01"];
        foreach (var quantity in badQuantities.Append("0").Append("2147483647"))
        {
            yield return new BadRequest("POST", $"/api/products/{Sku}/reserve", $$"""{"quantity":{{quantity}}}""");
            yield return new BadRequest("POST", $"/api/carts/{Cart}/items", $$"""{"sku":"{{Sku}}","quantity":{{quantity}}}""");
        }

        foreach (var quantity in badQuantities.Append("10001"))
        {
            yield return new BadRequest("PUT", $"/api/carts/{Cart}/items/{Sku}", $$"""{"quantity":{{quantity}}}""");
        }

        foreach (var quantity in badQuantities.Append("0").Append("1000000000"))
        {
            yield return new BadRequest("POST", $"/api/products/{Sku}/release", $$"""{"quantity":{{quantity}}}""");
        }

        string[] badCartBodies = ["{}", """{"sku":"sku-fuzz-1"}""", """{"quantity":1}""", """{"sku":null,"quantity":1}""", """{"sku":"sku-fuzz-1","quantity":1,"price":0}"""];
        foreach (var body in badCartBodies)
        {
            yield return new BadRequest("POST", $"/api/carts/{Cart}/items", body);
        }

        // Products and carts that do not exist are 404s, and must not be created by the attempt.
        yield return new BadRequest("POST", "/api/products/sku-fuzz-other/reserve", """{"quantity":1}""");
        yield return new BadRequest("POST", "/api/carts/cart-fuzz-1/items", """{"sku":"sku-fuzz-other","quantity":1}""");
        yield return new BadRequest("DELETE", $"/api/carts/{Cart}/items/sku-fuzz-other");
        yield return new BadRequest("GET", "/api/where/planet/sku-fuzz-1");

        string?[] badContentTypes = [null, "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "text/json; charset=ebcdic"];
        foreach (var type in badContentTypes)
        {
            yield return new BadRequest("PUT", $"/api/products/{Sku}", """{"name":"x","price":1,"stock":1}""", ContentType: type ?? string.Empty);
            yield return new BadRequest("POST", $"/api/carts/{Cart}/items", $$"""{"sku":"{{Sku}}","quantity":1}""", ContentType: type ?? string.Empty);
        }

        yield return new BadRequest("PUT", $"/api/products/{Sku}", $$"""{"name":"{{new string('n', 70 * 1024)}}","price":1,"stock":1}""");
        yield return new BadRequest("PUT", $"/api/products/{Sku}", $$"""{"name":"x","price":1,"stock":1,"pad":"{{new string(' ', 2 * 1024 * 1024)}}"}""");
        yield return new BadRequest("PUT", $"/api/products/{Sku}", "\u00ff\u00fe{\"name\":\"x\"}", Encoding: Encoding.Latin1);
        yield return new BadRequest("PUT", $"/api/products/{Sku}", """{"name":"x","price":1,"stock":1}""", Headers: [("Idempotency-Key", new string('k', 256))]);
        yield return new BadRequest("PUT", $"/api/products/{Sku}", """{"name":"x","price":1,"stock":1}""", Headers: [("Idempotency-Key", "tab\tinside")]);
        yield return new BadRequest("POST", $"/api/carts/{Cart}/items", $$"""{"sku":"{{Sku}}","quantity":1}""", Headers: [("Idempotency-Key", "{" + new string('1', 500) + "}")]);
        yield return new BadRequest("PATCH", $"/api/products/{Sku}", """{"stock":1}""");
        yield return new BadRequest("DELETE", $"/api/products/{Sku}");
        yield return new BadRequest("POST", $"/api/products/{Sku}", """{"name":"x","price":1,"stock":1}""");
        foreach (var limit in new[] { "0", "-1", "501", "abc", "1.5", "%20", "99999999999" })
        {
            yield return new BadRequest("GET", $"/api/products?limit={limit}");
            yield return new BadRequest("GET", $"/api/events?limit={limit}");
        }

        yield return new BadRequest("GET", "/api/carts?after=");
        yield return new BadRequest("GET", "/api/nothing-here");
        yield return new BadRequest("PUT", $"/api/products/{Sku}", """{"name":"x","price":1,"stock":1}""", ApiKey: "wrong-key");
        yield return new BadRequest("PUT", $"/api/products/{Sku}", """{"name":"x","price":1,"stock":1}""", ApiKey: string.Empty);
    }

    /// <summary>One request of the corpus. An empty <paramref name="ContentType"/> sends the body without a content type.</summary>
    private sealed record BadRequest(
        string Method, string Path, string? Body = null, string ContentType = "application/json", Encoding? Encoding = null,
        (string Name, string Value)[]? Headers = null, string? ApiKey = null)
    {
        public HttpRequestMessage ToRequest()
        {
            var request = new HttpRequestMessage(new HttpMethod(Method), Path);
            if (Body is not null)
            {
                request.Content = new ByteArrayContent((Encoding ?? Encoding.UTF8).GetBytes(Body));
                // A body over the limit is refused (413) before it is read: the client waits for that answer rather
                // than writing megabytes into a connection the server closes.
                request.Headers.ExpectContinue = Body.Length > 64 * 1024;
                if (ContentType.Length > 0)
                {
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
                }
            }

            foreach (var (name, value) in Headers ?? [])
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            if (ApiKey is not null)
            {
                request.Headers.TryAddWithoutValidation("X-Api-Key", ApiKey); // replaces the client's default key
            }

            return request;
        }

        public override string ToString() =>
            $"{Method} {(Path.Length > 80 ? Path[..80] + "..." : Path)} {(Body is null ? string.Empty : Body.Length > 60 ? Body[..60] + "..." : Body)} [{ContentType}]";
    }
}
