using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Shards.Client;
using Shards.Postgres;
using Shards.Tests.Api;

namespace Shards.Tests.Observability;

/// <summary>
/// The Prometheus scrape endpoint of a real silo over PostgreSQL: behind the API key, serving Shards', Orleans',
/// ASP.NET Core's, Npgsql's and the runtime's metrics, with figures that agree with what <c>shards members</c> and
/// <c>shards distribution</c> read.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(ObservabilityCollection.Name)]
public sealed class MetricsEndpointTests(ObservabilitySiloFixture fixture) : IClassFixture<ObservabilitySiloFixture>
{
    [Fact(Timeout = 60_000)]
    public async Task Metrics_without_a_key_get_401_with_a_basic_challenge_and_a_wrong_key_is_refused()
    {
        using var anonymous = await fixture.ClientAsync(apiKey: null);
        using var wrong = await fixture.ClientAsync("not-the-key");

        var refused = await anonymous.GetAsync("/metrics");
        var detail = await refused.AssertProblemAsync(401, "unauthorized");
        var wrongKey = await wrong.GetAsync("/metrics");

        Assert.Contains(refused.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        Assert.Contains("basic_auth", detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task After_api_calls_metrics_serve_shards_orleans_aspnetcore_npgsql_and_runtime_figures()
    {
        using var client = await fixture.ClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.PutJsonAsync("/api/products/sku-metrics", """{"name":"Gauge","price":2.5,"stock":9}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/products/sku-metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/products/sku-metrics-missing")).StatusCode);

        var text = await ScrapeUntilAsync(client, t =>
            PrometheusText.Value(t, "shards_grain_activations", ("grain_type", "product")) >= 1 &&
            PrometheusText.Samples(t, "shards_shard_rows").Sum() >= 1);

        Assert.True(PrometheusText.Value(text, "shards_api_request_duration_seconds_count",
            ("http_route", "/api/products/{sku}"), ("http_request_method", "GET"), ("http_response_status_code", "200")) >= 1, text);
        Assert.True(PrometheusText.Value(text, "shards_api_request_duration_seconds_count",
            ("http_route", "/api/products/{sku}"), ("http_request_method", "GET"), ("http_response_status_code", "404")) >= 1, text);
        Assert.True(PrometheusText.Samples(text, "shards_grain_call_duration_seconds_count", ("grain_interface", "IProductGrain"), ("outcome", "ok")).Sum() >= 2, text);
        Assert.True(PrometheusText.Samples(text, "shards_shard_rows", ("shard", "main")).Sum() >= 1, text);
        Assert.True(PrometheusText.Samples(text, "shards_shard_bytes", ("shard", "main")).Sum() > 0, text);
        Assert.Equal(1.0, PrometheusText.Value(text, "shards_lease_held")); // a silo alone holds its majority lease
        Assert.True(PrometheusText.Has(text, "orleans_catalog_activations"), "no Orleans catalog metric");
        Assert.Contains("http_server_request_duration_seconds_count", text, StringComparison.Ordinal);
        Assert.Contains("db_client_", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_", text, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Metrics_accept_the_key_as_basic_password_or_bearer_token_as_prometheus_sends_it()
    {
        using var client = await fixture.ClientAsync(apiKey: null);
        var basic = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"prometheus:{ObservabilitySiloFixture.Key}")));
        var bearer = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ObservabilitySiloFixture.Key);

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(basic)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(bearer)).StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task Silo_gauges_agree_with_the_membership_table_and_with_the_activation_counts_distribution_reads()
    {
        using var client = await fixture.ClientAsync();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/where/cart/cart-agree-{i}")).StatusCode);
        }

        var grains = fixture.Silo.App.Services.GetRequiredService<IGrainFactory>();
        var local = fixture.Silo.App.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        var expectedCarts = (await GrainActivationCounts.ReadAsync(grains)).Single(c => c.Silo.Equals(local) && c.Grain == "cart").Count;
        var text = await ScrapeUntilAsync(client, t => PrometheusText.Value(t, "shards_grain_activations", ("grain_type", "cart")) == expectedCarts);

        var table = await MembershipTableReader.ReadAsync(fixture.Silo.ConnectionString, ClusterIdOf(fixture));
        Assert.True(expectedCarts >= 5, $"{expectedCarts} cart activations");
        Assert.Equal(table.Count(r => r.Status == SiloStatusCode.Active), PrometheusText.Value(text, "shards_cluster_silos", ("status", "Active")));
        Assert.Equal(1, table.Count(r => r.Status == SiloStatusCode.Active));
    }

    /// <summary>Scrapes until <paramref name="ready"/> holds (samples are taken every second), at most 20 s.</summary>
    internal static async Task<string> ScrapeUntilAsync(HttpClient client, Func<string, bool> ready)
    {
        var text = string.Empty;
        for (var attempt = 0; attempt < 80; attempt++)
        {
            var response = await client.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            text = await response.Content.ReadAsStringAsync();
            if (ready(text))
            {
                return text;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"the metrics never showed the expected figures:\n{text}");
        return text;
    }

    private static string ClusterIdOf(ObservabilitySiloFixture silo) =>
        silo.Silo.App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Orleans.Configuration.ClusterOptions>>().Value.ClusterId;
}
