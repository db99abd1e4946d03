using Shards.Tests.Infrastructure;

namespace Shards.Tests.Api;

/// <summary>
/// One silo with its HTTP API (and the Orleans Dashboard) on a fresh database, with a plain key (every scope) and one
/// scoped key per kind of caller, given as <c>Shards:Api:ScopedKeys:N:Key</c> and <c>:Scopes</c>.
/// </summary>
public sealed class ApiScopeSiloFixture : IAsyncLifetime
{
    /// <summary>Under <c>Shards:Api:Keys</c>: every scope, as before scopes existed.</summary>
    public const string AllKey = "scope-key-all";

    public const string ReadKey = "scope-key-read";

    /// <summary>What a shop front needs: read, write.</summary>
    public const string ShopKey = "scope-key-shop";

    public const string CatalogKey = "scope-key-catalog";

    public const string OperatorKey = "scope-key-operator";

    public ApiSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Silo = ApiSilo.Start(
            await TestPostgres.CreateDatabaseAsync("apiscopes"),
            $"Shards:Api:Keys:0={AllKey}",
            $"Shards:Api:ScopedKeys:0:Key={ReadKey}",
            "Shards:Api:ScopedKeys:0:Scopes=read",
            $"Shards:Api:ScopedKeys:1:Key={ShopKey}",
            "Shards:Api:ScopedKeys:1:Scopes=read, write",
            $"Shards:Api:ScopedKeys:2:Key={CatalogKey}",
            "Shards:Api:ScopedKeys:2:Scopes=catalog",
            $"Shards:Api:ScopedKeys:3:Key={OperatorKey}",
            "Shards:Api:ScopedKeys:3:Scopes=operator",
            "Shards:Dashboard:Enabled=true");
        await Silo.Started;
    }

    public Task<HttpClient> ClientAsync(string? apiKey) => Silo.ClientAsync(apiKey);

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}
