using System.Net;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Api;

/// <summary>The API of a silo that is not ready yet, of a silo with no API keys, and of a key over its rate limit.</summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ApiStartupAndLimitTests
{
    [Fact(Timeout = 120_000)]
    public async Task Ready_is_503_with_retry_after_while_the_silo_waits_for_its_database_and_200_once_it_is_active()
    {
        var connectionString = await TestPostgres.FutureDatabaseAsync("ready");
        // Readiness checked on every request (not once a second), so the first probe after the start already sees it.
        await using var silo = ApiSilo.Start(connectionString, "Shards:Api:Keys:0=ready-key", "Shards:Api:ReadinessCache=00:00:00");
        using var client = await silo.ClientAsync("ready-key");

        var live = await client.GetAsync("/health/live");
        var notReady = await client.GetAsync("/health/ready");
        var call = await client.GetAsync("/api/products/sku-ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.NotNull(notReady.RetryAfter());
        Assert.Contains("still joining", await call.AssertProblemAsync(503, "unavailable"), StringComparison.Ordinal);
        Assert.NotNull(call.RetryAfter());
        Assert.False(silo.Started.IsCompleted);

        await TestPostgres.CreateNamedDatabaseAsync(connectionString);
        await silo.Started.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        await (await client.GetAsync("/api/products/sku-ready")).AssertProblemAsync(404, "notFound");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_silo_without_api_keys_refuses_every_api_request_with_how_to_configure_one()
    {
        var connectionString = await TestPostgres.FutureDatabaseAsync("nokeys");
        await using var silo = ApiSilo.Start(connectionString, "Shards:Database:StartupWait=00:00:03");
        using var client = await silo.ClientAsync("any-key");

        var detail = await (await client.GetAsync("/api/products/sku-nokeys")).AssertProblemAsync(401, "unauthorized");
        var openApi = await client.GetAsync("/openapi/v1.json");
        var live = await client.GetAsync("/health/live");

        Assert.Contains("Shards__Api__Keys__0", detail, StringComparison.Ordinal);
        Assert.Contains(".shards/api-key", detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, openApi.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_key_over_its_rate_limit_gets_429_with_retry_after_while_another_key_still_passes()
    {
        await using var silo = ApiSilo.Start(
            await TestPostgres.CreateDatabaseAsync("ratelimit"),
            "Shards:Api:Keys:0=busy-key", "Shards:Api:Keys:1=calm-key",
            "Shards:Api:RateLimit:PermitsPerSecond=1", "Shards:Api:RateLimit:Burst=3");
        await silo.Started;
        using var busy = await silo.ClientAsync("busy-key");
        using var calm = await silo.ClientAsync("calm-key");

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 10 && limited is null; i++)
        {
            var response = await busy.GetAsync("/api/members");
            statuses.Add(response.StatusCode);
            limited = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        Assert.NotNull(limited);
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) >= 3, string.Join(", ", statuses));
        var detail = await limited.AssertProblemAsync(429, "rateLimited");
        Assert.Contains("key-1", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("busy-key", detail, StringComparison.Ordinal);
        Assert.True(limited.RetryAfter() >= TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await calm.GetAsync("/api/members")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await busy.GetAsync("/health/ready")).StatusCode);
    }
}
