using System.Net;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Api;

/// <summary>
/// What a caller without an API key gets: health status without details (no host, port, database or driver text), and a
/// token bucket per client address that also slows down requests about to be refused for their key.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class AnonymousAccessTests
{
    private const string Key = "anonymous-test-key";

    [Fact(Timeout = 120_000)]
    public async Task Readiness_tells_an_anonymous_caller_its_status_only_and_a_caller_with_a_key_every_check()
    {
        await using var silo = ApiSilo.Start(await TestPostgres.CreateDatabaseAsync("anonready"), $"Shards:Api:Keys:0={Key}");
        await silo.Started;
        using var anonymous = await silo.ClientAsync(apiKey: null);
        using var keyed = await silo.ClientAsync(Key);

        var bare = await anonymous.GetAsync("/health/ready");
        var bareBody = await bare.Content.ReadAsStringAsync();
        var detailed = await keyed.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, bare.StatusCode);
        Assert.Equal("""{"status":"Healthy"}""", bareBody);
        Assert.Equal(HttpStatusCode.OK, detailed.StatusCode);
        var checks = (await detailed.JsonAsync()).GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("silo").GetProperty("status").GetString());
        Assert.Contains("127.0.0.1", checks.GetProperty("postgresql").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task One_address_without_a_key_is_rate_limited_on_health_and_wrong_keys_while_a_valid_key_passes()
    {
        await using var silo = ApiSilo.Start(
            await TestPostgres.CreateDatabaseAsync("anonlimit"),
            $"Shards:Api:Keys:0={Key}", "Shards:Api:RateLimit:AnonymousPermitsPerSecond=1", "Shards:Api:RateLimit:AnonymousBurst=3");
        await silo.Started;
        using var anonymous = await silo.ClientAsync(apiKey: null);
        using var guessing = await silo.ClientAsync("a-guessed-key");
        using var keyed = await silo.ClientAsync(Key);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 10 && limited is null; i++)
        {
            var response = await anonymous.GetAsync("/health/live");
            statuses.Add(response.StatusCode);
            limited = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        var guess = await guessing.GetAsync("/api/products/sku-anon");
        var withKey = await keyed.GetAsync("/api/members");

        Assert.NotNull(limited);
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) >= 3, string.Join(", ", statuses));
        Assert.Contains("without a valid API key", await limited.AssertProblemAsync(429, "rateLimited"), StringComparison.Ordinal);
        Assert.True(limited.RetryAfter() >= TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.TooManyRequests, guess.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
    }
}
