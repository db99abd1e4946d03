using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shards.LocalCluster.Postgres;
using Shards.Tests.Api;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Observability;

/// <summary>
/// <c>Shards:Telemetry:Exporter=Otlp</c>: a real silo pushes metrics and, after an API call, traces to an OTLP/HTTP
/// receiver (a minimal one in the test, on a loopback port), and serves no scrape endpoint.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(ObservabilityCollection.Name)]
public sealed class OtlpExportTests
{
    [Fact(Timeout = 120_000)]
    public async Task An_otlp_silo_pushes_metrics_and_traces_to_the_receiver_and_serves_no_metrics_path()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var silo = ApiSilo.Start(
            await TestPostgres.CreateDatabaseAsync("otlp"),
            "Shards:Api:Keys:0=otlp-key",
            "Shards:Telemetry:Exporter=Otlp",
            "Shards:Telemetry:OtlpProtocol=HttpProtobuf",
            $"Shards:Telemetry:OtlpEndpoint={receiver.Url}",
            "Shards:Telemetry:OtlpExportInterval=00:00:01",
            "Shards:Telemetry:TraceSampleRatio=1");
        await silo.Started;
        using var client = await silo.ClientAsync("otlp-key");

        Assert.Equal(HttpStatusCode.OK, (await client.PutJsonAsync("/api/products/sku-otlp", """{"name":"Trace","price":1,"stock":1}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/metrics")).StatusCode);
        for (var i = 0; i < 100 && !(receiver.Received("/v1/metrics") > 0 && receiver.Received("/v1/traces") > 0); i++)
        {
            await Task.Delay(200);
        }

        Assert.True(receiver.Received("/v1/metrics") > 0, $"no metrics export: {receiver}");
        Assert.True(receiver.Received("/v1/traces") > 0, $"no trace export: {receiver}");
        Assert.All(receiver.ContentTypes, type => Assert.Equal("application/x-protobuf", type));
    }

    /// <summary>Accepts OTLP/HTTP exports (protobuf bodies) and counts them by path; answers an empty success.</summary>
    private sealed class OtlpReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, int> _received = new(StringComparer.Ordinal);
        private readonly ConcurrentBag<string> _contentTypes = [];

        private OtlpReceiver(int port)
        {
            Url = $"http://127.0.0.1:{port}";
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls(Url);
            builder.Logging.ClearProviders();
            _app = builder.Build();
            _app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
            {
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body);
                if (body.Length > 0)
                {
                    _received.AddOrUpdate($"/v1/{signal}", 1, (_, n) => n + 1);
                    _contentTypes.Add(request.ContentType ?? string.Empty);
                }

                return Results.Bytes([], "application/x-protobuf");
            });
        }

        public string Url { get; }

        public IEnumerable<string> ContentTypes => _contentTypes;

        public static async Task<OtlpReceiver> StartAsync()
        {
            var receiver = new OtlpReceiver(PrivatePostgresServer.FreeLoopbackPort());
            await receiver._app.StartAsync();
            return receiver;
        }

        public int Received(string path) => _received.GetValueOrDefault(path);

        public override string ToString() => string.Join(", ", _received.Select(r => $"{r.Key}: {r.Value}"));

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
