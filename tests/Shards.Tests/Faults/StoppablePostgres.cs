using Shards.LocalCluster.Postgres;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Faults;

/// <summary>
/// A private PostgreSQL server of the test's own (not the run's shared one), which the test may stop and start.
/// Destroyed on dispose; a watchdog destroys it when the test process ends anyhow.
/// </summary>
public sealed class StoppablePostgres : IAsyncDisposable
{
    private StoppablePostgres(PrivatePostgresServer server, string adminConnectionString)
    {
        Server = server;
        AdminConnectionString = adminConnectionString;
    }

    public PrivatePostgresServer Server { get; }

    public string AdminConnectionString { get; }

    public static async Task<StoppablePostgres> StartAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), $"shards-tests-stoppable-{Environment.ProcessId}-{Guid.NewGuid():N}"[..58]);
        var server = PrivatePostgresServer.Create(new PrivatePostgresOptions { Directory = root, Database = "postgres" });
        server.DestroyWhenProcessExits(Environment.ProcessId);
        return new StoppablePostgres(server, await server.StartAsync());
    }

    /// <summary>A new database with Shards' schema on this server.</summary>
    public Task<string> CreateDatabaseAsync(string purpose) => TestPostgres.CreateDatabaseOnAsync(AdminConnectionString, purpose);

    public async ValueTask DisposeAsync() => await Server.DestroyAsync();
}
