using Shards.Tests.Infrastructure;

namespace Shards.Tests.Api;

/// <summary>One silo with its HTTP API on a fresh database, shared by the tests of a class; two API keys.</summary>
public sealed class ApiSiloFixture : IAsyncLifetime
{
    public const string Key = "test-key-one";
    public const string OtherKey = "test-key-two";

    public ApiSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Silo = ApiSilo.Start(await TestPostgres.CreateDatabaseAsync("api"), $"Shards:Api:Keys:0={Key}", $"Shards:Api:Keys:1={OtherKey}");
        await Silo.Started;
    }

    public Task<HttpClient> ClientAsync(string? apiKey = Key) => Silo.ClientAsync(apiKey);

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}
