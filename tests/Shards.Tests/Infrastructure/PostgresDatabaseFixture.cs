namespace Shards.Tests.Infrastructure;

/// <summary>A fresh database with Shards' schema, shared by the tests of one class.</summary>
public sealed class PostgresDatabaseFixture : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = string.Empty;

    public async Task InitializeAsync() => ConnectionString = await TestPostgres.CreateDatabaseAsync("db");

    public Task DisposeAsync() => Task.CompletedTask;
}
