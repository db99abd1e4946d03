using System.Net;
using Npgsql;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Api;

/// <summary>
/// <c>Idempotency-Key</c> over a real silo: a key is bound to the API key, method, route and body it was first used
/// with (another use is a 422 that changes nothing); the same request again replays the stored status and body;
/// records are pruned after their retention; PostgreSQL not answering is a 503 that runs nothing.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class IdempotencyApiTests(IdempotencyApiFixture fixture) : IClassFixture<IdempotencyApiFixture>
{
    [Fact]
    public async Task A_key_reused_with_another_body_or_route_gets_422_and_changes_nothing()
    {
        using var client = await fixture.ClientAsync();
        var key = Guid.NewGuid().ToString();

        var first = await client.SendJsonAsync(HttpMethod.Put, "/api/products/sku-idem-x", """{"name":"X","price":2.0,"stock":10}""", key);
        var otherBody = await client.SendJsonAsync(HttpMethod.Put, "/api/products/sku-idem-x", """{"name":"X","price":99.0,"stock":10}""", key);
        var otherRoute = await client.SendJsonAsync(HttpMethod.Post, "/api/products/sku-idem-x/reserve", """{"quantity":4}""", key);
        var product = await (await client.GetAsync("/api/products/sku-idem-x")).JsonAsync();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var bodyDetail = await otherBody.AssertProblemAsync(422, "idempotencyKeyMismatch");
        var routeDetail = await otherRoute.AssertProblemAsync(422, "idempotencyKeyMismatch");
        Assert.Contains("body", bodyDetail, StringComparison.Ordinal);
        Assert.Contains("Nothing was done", bodyDetail, StringComparison.Ordinal);
        Assert.Contains("PUT /api/products/sku-idem-x", routeDetail, StringComparison.Ordinal);
        Assert.Contains("POST /api/products/sku-idem-x/reserve", routeDetail, StringComparison.Ordinal);
        Assert.Equal(2.0m, product.GetProperty("price").GetDecimal());
        Assert.Equal(10, product.GetProperty("stock").GetInt32());
        Assert.Equal(1, product.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task The_same_request_again_replays_the_original_status_and_body_and_is_applied_once()
    {
        using var client = await fixture.ClientAsync();
        await client.PutJsonAsync("/api/products/sku-idem-replay", """{"name":"Once","price":1,"stock":10}""");
        var key = Guid.NewGuid().ToString();

        var first = await client.SendJsonAsync(HttpMethod.Post, "/api/products/sku-idem-replay/reserve", """{"quantity":3}""", key);
        var between = await client.PostJsonAsync("/api/products/sku-idem-replay/reserve", """{"quantity":1}""");
        var replayed = await client.SendJsonAsync(HttpMethod.Post, "/api/products/sku-idem-replay/reserve", """{"quantity":3}""", key);
        var product = await (await client.GetAsync("/api/products/sku-idem-replay")).JsonAsync();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(6, (await between.JsonAsync()).GetProperty("stock").GetInt32());
        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await replayed.Content.ReadAsStringAsync());
        Assert.Equal(7, (await replayed.JsonAsync()).GetProperty("stock").GetInt32());
        Assert.Equal("application/json", replayed.Content.Headers.ContentType?.MediaType);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", replayed.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.Headers.GetValues("X-Shards-Request-Id").Single(), replayed.Headers.GetValues("X-Shards-Request-Id").Single());
        Assert.Equal(6, product.GetProperty("stock").GetInt32());
    }

    [Fact]
    public async Task A_created_order_replays_201_with_its_location()
    {
        using var client = await fixture.ClientAsync();
        await client.PutJsonAsync("/api/products/sku-idem-order", """{"name":"Thing","price":2.5,"stock":10}""");
        await client.PostJsonAsync("/api/carts/cart-idem-order/items", """{"sku":"sku-idem-order","quantity":2}""");
        const string Body = """{"orderId":"order-idem-1","cartId":"cart-idem-order","paymentToken":"tok-visa"}""";
        var key = "checkout:order-idem-1";

        var first = await client.SendJsonAsync(HttpMethod.Post, "/api/orders", Body, key);
        var replayed = await client.SendJsonAsync(HttpMethod.Post, "/api/orders", Body, key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, replayed.StatusCode);
        Assert.Equal(first.Headers.Location, replayed.Headers.Location);
        Assert.Equal("/api/orders/order-idem-1", replayed.Headers.Location?.OriginalString);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await replayed.Content.ReadAsStringAsync());
        Assert.Equal("true", replayed.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Fact]
    public async Task The_same_key_under_another_api_key_is_a_request_of_its_own()
    {
        using var first = await fixture.ClientAsync(IdempotencyApiFixture.Key);
        using var second = await fixture.ClientAsync(IdempotencyApiFixture.OtherKey);
        await first.PutJsonAsync("/api/products/sku-idem-keys", """{"name":"Shared","price":1,"stock":10}""");
        var key = Guid.NewGuid().ToString();

        var byFirst = await first.SendJsonAsync(HttpMethod.Post, "/api/products/sku-idem-keys/reserve", """{"quantity":2}""", key);
        var bySecond = await second.SendJsonAsync(HttpMethod.Post, "/api/products/sku-idem-keys/reserve", """{"quantity":2}""", key);
        var firstAgain = await first.SendJsonAsync(HttpMethod.Post, "/api/products/sku-idem-keys/reserve", """{"quantity":2}""", key);

        Assert.Equal(8, (await byFirst.JsonAsync()).GetProperty("stock").GetInt32());
        Assert.Equal(6, (await bySecond.JsonAsync()).GetProperty("stock").GetInt32());
        Assert.False(bySecond.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(8, (await firstAgain.JsonAsync()).GetProperty("stock").GetInt32());
        Assert.Equal("true", firstAgain.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(6, (await (await first.GetAsync("/api/products/sku-idem-keys")).JsonAsync()).GetProperty("stock").GetInt32());
    }

    [Fact]
    public async Task A_rejected_first_request_replays_the_same_4xx_even_after_it_could_succeed()
    {
        using var client = await fixture.ClientAsync();
        await client.PutJsonAsync("/api/products/sku-idem-409", """{"name":"Rare","price":1,"stock":2}""");
        var key = Guid.NewGuid().ToString();

        var first = await client.SendJsonAsync(HttpMethod.Post, "/api/products/sku-idem-409/reserve", """{"quantity":3}""", key);
        await client.PutJsonAsync("/api/products/sku-idem-409", """{"name":"Rare","price":1,"stock":7}""");
        var replayed = await client.SendJsonAsync(HttpMethod.Post, "/api/products/sku-idem-409/reserve", """{"quantity":3}""", key);

        var detail = await first.AssertProblemAsync(409, "conflict");
        Assert.Equal(detail, await replayed.AssertProblemAsync(409, "conflict"));
        Assert.Equal("true", replayed.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(7, (await (await client.GetAsync("/api/products/sku-idem-409")).JsonAsync()).GetProperty("stock").GetInt32());
    }

    [Fact]
    public async Task Eight_identical_requests_at_once_are_applied_once_and_all_get_the_same_body()
    {
        using var client = await fixture.ClientAsync();
        await client.PutJsonAsync("/api/products/sku-idem-race", """{"name":"Race","price":3,"stock":100}""");
        var key = $"race-{Guid.NewGuid():N}";

        using var start = new SemaphoreSlim(0);
        var requests = Enumerable.Range(0, 8).Select(async _ =>
        {
            await start.WaitAsync();
            return await client.SendJsonAsync(HttpMethod.Post, "/api/carts/cart-idem-race/items", """{"sku":"sku-idem-race","quantity":1}""", key);
        }).ToList();
        start.Release(8);
        var responses = await Task.WhenAll(requests);
        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
        var cart = await (await client.GetAsync("/api/carts/cart-idem-race")).JsonAsync();

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(bodies.Distinct(StringComparer.Ordinal));
        // The first copy (the record's creator) answers its own and stores it behind the reply; each other copy stores
        // its answer first or, finding one stored, answers that one replayed: only the first store to commit is not.
        Assert.InRange(responses.Count(r => r.Headers.Contains("Idempotent-Replayed")), 6, 7);
        Assert.Equal(1, Assert.Single(cart.GetProperty("lines").EnumerateArray()).GetProperty("quantity").GetInt32());
        Assert.Equal(1, cart.GetProperty("version").GetInt64());
    }

    [Theory]
    [InlineData("order-2024-07-01/attempt#1")]
    [InlineData("a")]
    [InlineData("550e8400-e29b-41d4-a716-446655440000")]
    public async Task Any_printable_key_of_1_to_255_characters_is_accepted(string key)
    {
        using var client = await fixture.ClientAsync();
        var sku = $"sku-idem-opaque-{Guid.NewGuid():N}"[..30];
        await client.PutJsonAsync($"/api/products/{sku}", """{"name":"Opaque","price":1,"stock":10}""");
        var longKey = key + new string('k', 255 - key.Length);

        var first = await client.SendJsonAsync(HttpMethod.Post, $"/api/products/{sku}/reserve", """{"quantity":1}""", key);
        var again = await client.SendJsonAsync(HttpMethod.Post, $"/api/products/{sku}/reserve", """{"quantity":1}""", key);
        var longest = await client.SendJsonAsync(HttpMethod.Post, $"/api/products/{sku}/reserve", """{"quantity":1}""", longKey);
        var tooLong = await client.SendJsonAsync(HttpMethod.Post, $"/api/products/{sku}/reserve", """{"quantity":1}""", longKey + "k");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(8, (await longest.JsonAsync()).GetProperty("stock").GetInt32());
        Assert.Contains("255", await tooLong.AssertProblemAsync(400, "validation"), StringComparison.Ordinal);
        Assert.Equal(8, (await (await client.GetAsync($"/api/products/{sku}")).JsonAsync()).GetProperty("stock").GetInt32());
    }

    [Fact]
    public async Task Records_past_their_retention_are_pruned_and_others_kept()
    {
        using var client = await fixture.ClientAsync();
        await client.PutJsonAsync("/api/products/sku-idem-prune", """{"name":"Prune","price":1,"stock":10}""");
        var old = $"prune-old-{Guid.NewGuid():N}";
        var recent = $"prune-recent-{Guid.NewGuid():N}";
        await client.SendJsonAsync(HttpMethod.Post, "/api/products/sku-idem-prune/reserve", """{"quantity":1}""", old);
        await client.SendJsonAsync(HttpMethod.Post, "/api/products/sku-idem-prune/reserve", """{"quantity":1}""", recent);
        Assert.Equal(1, await fixture.ExecuteAsync(
            "UPDATE shards_http_idempotency SET expires_at = now() - interval '1 minute', deadline = now() - interval '2 minutes' WHERE idempotency_key = @key",
            old));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await fixture.CountAsync(old) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal(0, await fixture.CountAsync(old));
        Assert.Equal(1, await fixture.CountAsync(recent));
    }

    [Fact]
    public async Task A_keyed_write_while_postgresql_does_not_answer_gets_503_and_runs_nothing_and_its_retry_is_applied()
    {
        using var client = await fixture.ClientAsync();
        await client.PutJsonAsync("/api/products/sku-idem-pgdown", """{"name":"Down","price":1,"stock":10}""");
        var key = Guid.NewGuid().ToString();

        HttpResponseMessage refused;
        await using (var locked = await fixture.LockRecordsAsync())
        {
            refused = await client.SendJsonAsync(HttpMethod.Post, "/api/products/sku-idem-pgdown/reserve", """{"quantity":1}""", key);
            Assert.Equal(10, (await (await client.GetAsync("/api/products/sku-idem-pgdown")).JsonAsync()).GetProperty("stock").GetInt32());
        }

        var retried = await client.SendJsonAsync(HttpMethod.Post, "/api/products/sku-idem-pgdown/reserve", """{"quantity":1}""", key);

        Assert.Contains("Idempotency-Key", await refused.AssertProblemAsync(503, "unavailable"), StringComparison.Ordinal);
        Assert.NotNull(refused.RetryAfter());
        Assert.Equal(9, (await retried.JsonAsync()).GetProperty("stock").GetInt32());
    }
}

/// <summary>One silo on a fresh database, two API keys, records pruned every 0.3 s, a 1 s database timeout.</summary>
public sealed class IdempotencyApiFixture : IAsyncLifetime
{
    public const string Key = "idem-key-one";
    public const string OtherKey = "idem-key-two";

    private ApiSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _silo = ApiSilo.Start(
            await TestPostgres.CreateDatabaseAsync("idem"),
            $"Shards:Api:Keys:0={Key}", $"Shards:Api:Keys:1={OtherKey}",
            "Shards:Api:Idempotency:PrunePeriod=00:00:00.3",
            "Shards:Api:Idempotency:DatabaseTimeout=00:00:01");
        await _silo.Started;
    }

    public Task<HttpClient> ClientAsync(string apiKey = Key) => _silo.ClientAsync(apiKey);

    public async Task<int> ExecuteAsync(string sql, string key)
    {
        await using var connection = new NpgsqlConnection(_silo.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("key", key);
        return await command.ExecuteNonQueryAsync();
    }

    public async Task<long> CountAsync(string key)
    {
        await using var connection = new NpgsqlConnection(_silo.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM shards_http_idempotency WHERE idempotency_key = @key", connection);
        command.Parameters.AddWithValue("key", key);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Holds an exclusive lock on the records table (every read and write of it waits) until disposed.</summary>
    public async Task<IAsyncDisposable> LockRecordsAsync()
    {
        var connection = new NpgsqlConnection(_silo.ConnectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("LOCK TABLE shards_http_idempotency IN ACCESS EXCLUSIVE MODE", connection, transaction))
        {
            await command.ExecuteNonQueryAsync();
        }

        return new TableLock(connection, transaction);
    }

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    private sealed class TableLock(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.RollbackAsync();
            await connection.DisposeAsync();
        }
    }
}

/// <summary>Requests with an <c>Idempotency-Key</c>.</summary>
internal static class IdempotentHttp
{
    public static Task<HttpResponseMessage> SendJsonAsync(this HttpClient client, HttpMethod method, string url, string json, string idempotencyKey)
    {
        var request = new HttpRequestMessage(method, url) { Content = Http.Json(json) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        return client.SendAsync(request);
    }
}
