using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;
using Shards.Server.Silo;
using Shards.Storage.Postgres;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Api;

/// <summary>
/// A real Shards silo host (<see cref="ShardsSiloHost.Build"/>: the silo on PostgreSQL and its HTTP API) in this
/// process, with Kestrel swapped for a test server: requests go through the whole ASP.NET pipeline and real grains.
/// </summary>
public sealed class ApiSilo : IAsyncDisposable
{
    private ApiSilo(WebApplication app, string connectionString, Task started)
    {
        App = app;
        ConnectionString = connectionString;
        Started = started;
    }

    public WebApplication App { get; }

    public string ConnectionString { get; }

    /// <summary>Completes when the silo is Active and the API serves (or fails with the start-up error).</summary>
    public Task Started { get; }

    /// <summary>Set when the API is served by Kestrel on a real loopback port (<see cref="StartOnKestrel"/>).</summary>
    public Uri? BaseAddress { get; private init; }

    /// <summary>Builds the silo host and starts it in the background; settings are <c>Key=Value</c> overrides.</summary>
    public static ApiSilo Start(string connectionString, params string[] settings) => StartCore(connectionString, configure: null, kestrelPort: null, settings);

    /// <summary>As <see cref="Start(string, string[])"/>, with <paramref name="configure"/> run on the host builder (e.g. to add a log provider).</summary>
    public static ApiSilo Start(string connectionString, Action<WebApplicationBuilder>? configure, params string[] settings) =>
        StartCore(connectionString, configure, kestrelPort: null, settings);

    /// <summary>
    /// As <see cref="Start(string, string[])"/>, but the API is served by the real Kestrel server on a free loopback
    /// port (requests the test server cannot carry, e.g. a NUL in the path, reach the real HTTP parser).
    /// </summary>
    public static ApiSilo StartOnKestrel(string connectionString, params string[] settings) =>
        StartCore(connectionString, configure: null, PrivatePostgresServer.FreeLoopbackPort(), settings);

    private static ApiSilo StartCore(string connectionString, Action<WebApplicationBuilder>? configure, int? kestrelPort, string[] settings)
    {
        var cluster = $"api-{Guid.NewGuid():N}"[..16];
        var args = new List<string>
        {
            $"--ConnectionStrings:Shards={connectionString}",
            $"--Shards:Cluster:ClusterId={cluster}",
            $"--Shards:Cluster:ServiceId={cluster}",
            "--Shards:Silo:Name=api-silo",
            $"--Shards:Silo:SiloPort={PrivatePostgresServer.FreeLoopbackPort()}",
            $"--Shards:Silo:GatewayPort={PrivatePostgresServer.FreeLoopbackPort()}",
        };
        if (kestrelPort is { } port)
        {
            args.Add($"--Shards:Api:Port={port}");
        }

        args.AddRange(settings.Select(setting => $"--{setting}"));
        var app = ShardsSiloHost.Build([.. args], builder =>
        {
            if (kestrelPort is null)
            {
                builder.WebHost.UseTestServer();
            }

            configure?.Invoke(builder);
        });
        return new ApiSilo(app, connectionString, app.StartAsync())
        {
            BaseAddress = kestrelPort is { } listening ? new Uri($"http://127.0.0.1:{listening}") : null,
        };
    }

    /// <summary>A client of the test server (available as soon as the server part has started).</summary>
    public async Task<HttpClient> ClientAsync(string? apiKey)
    {
        if (BaseAddress is not null)
        {
            var kestrel = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            if (apiKey is not null)
            {
                kestrel.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
            }

            return kestrel;
        }

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var client = App.GetTestServer().CreateClient();
                if (apiKey is not null)
                {
                    client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
                }

                return client;
            }
            catch (InvalidOperationException) when (attempt < 200 && !Started.IsFaulted)
            {
                await Task.Delay(50); // the test server is not started yet
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await Started;
            await App.StopAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SiloStartupException or ShardedStorageStartupException or PostgresNotAvailableException)
        {
            // A silo that never started has nothing to stop.
        }

        await App.DisposeAsync();
    }
}

/// <summary>Small helpers for JSON requests and problem documents.</summary>
public static class Http
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, string json) => client.PutAsync(url, Json(json));

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, string json, Guid? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = Json(json) };
        if (idempotencyKey is { } key)
        {
            request.Headers.Add("Idempotency-Key", key.ToString());
        }

        return client.SendAsync(request);
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>
    /// Asserts an RFC 9457 problem document with <paramref name="status"/> and <paramref name="code"/>, with every member
    /// Shards' problem documents have (type, title, status, detail, instance, code); returns its detail.
    /// </summary>
    public static async Task<string> AssertProblemAsync(this HttpResponseMessage response, int status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Equal(code, problem.GetProperty("code").GetString());
        foreach (var member in (string[])["type", "title", "detail", "instance"])
        {
            Assert.True(
                problem.TryGetProperty(member, out var value) && !string.IsNullOrWhiteSpace(value.GetString()),
                $"the problem document has no {member}: {body}");
        }

        return problem.GetProperty("detail").GetString() ?? string.Empty;
    }

    public static string Silo(this HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Shards-Silo", out var values) ? values.Single() : string.Empty;

    public static TimeSpan? RetryAfter(this HttpResponseMessage response) => response.Headers.RetryAfter?.Delta;
}
