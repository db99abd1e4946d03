using Shards.Tests.Api;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Observability;

/// <summary>
/// One real silo on a fresh database with its HTTP API, the Prometheus exporter (the default), the Orleans Dashboard
/// turned on, and samples taken every second, shared by the tests of a class.
/// </summary>
public sealed class ObservabilitySiloFixture : IAsyncLifetime
{
    public const string Key = "observability-key";

    public ApiSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Silo = ApiSilo.Start(
            await TestPostgres.CreateDatabaseAsync("observe"),
            $"Shards:Api:Keys:0={Key}",
            "Shards:Dashboard:Enabled=true",
            "Shards:Telemetry:ActivationSamplePeriod=00:00:01",
            "Shards:Telemetry:ShardSizeSamplePeriod=00:00:01");
        await Silo.Started;
    }

    public Task<HttpClient> ClientAsync(string? apiKey = Key) => Silo.ClientAsync(apiKey);

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}
