using Npgsql;
using Shards.LocalCluster.Postgres;

namespace Shards.Tests.Infrastructure;

/// <summary>
/// A second private PostgreSQL server (besides <see cref="TestPostgres"/>'), in a temp folder of its own, for shard
/// databases on separate servers. Destroyed on dispose; a watchdog destroys it when the test process ends anyhow.
/// </summary>
public sealed class ExtraPostgresServer : IAsyncDisposable
{
    private readonly PrivatePostgresServer _server;

    private ExtraPostgresServer(PrivatePostgresServer server, string adminConnectionString)
    {
        _server = server;
        AdminConnectionString = adminConnectionString;
    }

    public string AdminConnectionString { get; }

    public static async Task<ExtraPostgresServer> StartAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), $"shards-tests-extra-{Environment.ProcessId}-{Guid.NewGuid():N}"[..54]);
        // A pinned port, so that a restarted server is where its clients' connection strings say.
        var server = PrivatePostgresServer.Create(new PrivatePostgresOptions { Directory = root, Database = "postgres", Port = PrivatePostgresServer.FreeLoopbackPort() });
        server.DestroyWhenProcessExits(Environment.ProcessId);
        return new ExtraPostgresServer(server, await server.StartAsync());
    }

    /// <summary>A new, empty database with Shards' schema on this server.</summary>
    public Task<string> CreateDatabaseAsync(string purpose) => TestPostgres.CreateDatabaseOnAsync(AdminConnectionString, purpose);

    /// <summary>
    /// Stops the server (fast shutdown), runs <paramref name="whileDown"/>, keeps it down for <paramref name="downtime"/>,
    /// and starts it again on the same port.
    /// </summary>
    public async Task RestartAsync(TimeSpan downtime, Action? whileDown = null)
    {
        await _server.StopAsync();
        whileDown?.Invoke();
        await Task.Delay(downtime);
        using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            NpgsqlConnection.ClearPool(admin); // this process's pooled admin connections died with the server
        }

        await _server.StartAsync();
    }

    public async ValueTask DisposeAsync() => await _server.DestroyAsync();
}
