using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Shards.Tests.Api;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Observability;

/// <summary>The Orleans Dashboard a silo serves when enabled: behind the API keys, as a browser sends them (Basic).</summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(ObservabilityCollection.Name)]
public sealed class DashboardTests(ObservabilitySiloFixture fixture) : IClassFixture<ObservabilitySiloFixture>
{
    [Fact(Timeout = 60_000)]
    public async Task Dashboard_without_a_key_gets_a_basic_challenge_a_browser_answers()
    {
        using var anonymous = await fixture.ClientAsync(apiKey: null);

        var page = await anonymous.GetAsync("/dashboard/");
        var data = await anonymous.GetAsync("/dashboard/DashboardCounters");

        await page.AssertProblemAsync(401, "unauthorized");
        Assert.Contains(page.Headers.WwwAuthenticate, h => h.Scheme == "Basic" && h.Parameter!.Contains("realm=", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Unauthorized, data.StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task Dashboard_with_a_wrong_basic_password_is_refused()
    {
        using var client = await fixture.ClientAsync(apiKey: null);
        client.DefaultRequestHeaders.Authorization = Basic("admin", "wrong-key");

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/dashboard/")).StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task Dashboard_with_the_key_as_basic_password_serves_the_page_and_its_cluster_data()
    {
        using var client = await fixture.ClientAsync(apiKey: null);
        client.DefaultRequestHeaders.Authorization = Basic("any-user", ObservabilitySiloFixture.Key);

        var page = await client.GetAsync("/dashboard/");
        var counters = await client.GetAsync("/dashboard/DashboardCounters");
        var withHeader = await (await fixture.ClientAsync()).GetAsync("/dashboard/DashboardCounters");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
        Assert.Contains("totalActiveHostCount", await counters.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, withHeader.StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task Dashboard_log_stream_is_off_by_default()
    {
        using var client = await fixture.ClientAsync();

        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/dashboard/Trace")).StatusCode);
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
}

/// <summary>A silo with the defaults for the dashboard (off) and telemetry turned off: neither page exists.</summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(ObservabilityCollection.Name)]
public sealed class ObservabilityOffTests
{
    [Fact(Timeout = 120_000)]
    public async Task Without_dashboard_and_telemetry_both_paths_are_404_for_a_caller_with_the_key()
    {
        await using var silo = ApiSilo.Start(await TestPostgres.CreateDatabaseAsync("observeoff"), "Shards:Api:Keys:0=off-key", "Shards:Telemetry:Exporter=None");
        await silo.Started;
        using var client = await silo.ClientAsync("off-key");

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/dashboard/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/dashboard/DashboardCounters")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/members")).StatusCode);
    }
}
