using Npgsql;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;

namespace Shards.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL the tests use: the server named by <c>SHARDS_TEST_POSTGRES</c> (an admin connection string that
/// may create databases), else one private server started once per test run in a temp folder and stopped at exit.
/// There is no skipping: when neither is possible the tests that need PostgreSQL fail with the reason.
/// </summary>
public static class TestPostgres
{
    public const string ExternalServerVariable = "SHARDS_TEST_POSTGRES";
    private static readonly Lazy<Task<Server>> s_server = new(StartAsync);

    /// <summary>
    /// The data sources of the tests' own statements (schema, stores, coordinators), one per database for the whole test
    /// run, as Npgsql's pools were; silos and clients the tests start have their own.
    /// </summary>
    public static PostgresDataSources DataSources { get; } = new();

    /// <summary>A new, empty database with Shards' schema applied; its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string purpose) =>
        await CreateDatabaseOnAsync((await s_server.Value).AdminConnectionString, purpose);

    /// <summary>A new, empty database with Shards' schema on the server of <paramref name="adminConnectionString"/>.</summary>
    public static async Task<string> CreateDatabaseOnAsync(string adminConnectionString, string purpose)
    {
        var unique = $"t_{purpose.ToLowerInvariant()}_{Guid.NewGuid():N}";
        var name = unique[..Math.Min(unique.Length, 48)];
        await using (var connection = new NpgsqlConnection(adminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        var connectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
        await new SchemaMigrator(DataSources.For(connectionString)).ApplyAsync();
        return connectionString;
    }

    /// <summary>
    /// The connection string of a database that does not exist yet (for tests of a silo waiting for its database);
    /// <see cref="CreateNamedDatabaseAsync"/> creates it.
    /// </summary>
    public static async Task<string> FutureDatabaseAsync(string purpose)
    {
        var server = await s_server.Value;
        var unique = $"t_{purpose.ToLowerInvariant()}_{Guid.NewGuid():N}";
        var name = unique[..Math.Min(unique.Length, 48)];
        return new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Creates the (empty) database that <paramref name="connectionString"/> names.</summary>
    public static async Task CreateNamedDatabaseAsync(string connectionString)
    {
        var server = await s_server.Value;
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using var connection = new NpgsqlConnection(server.AdminConnectionString);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await create.ExecuteNonQueryAsync();
    }

    /// <summary>The private server (null when an external one is used), for tests that stop and start it.</summary>
    public static async Task<PrivatePostgresServer?> PrivateServerAsync() => (await s_server.Value).Private;

    private static async Task<Server> StartAsync()
    {
        var external = Environment.GetEnvironmentVariable(ExternalServerVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            return new Server(external, null);
        }

        var root = Path.Combine(Path.GetTempPath(), $"shards-tests-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        var server = PrivatePostgresServer.Create(new PrivatePostgresOptions { Directory = root, Database = "postgres" });
        var connectionString = await server.StartAsync();
        server.DestroyWhenProcessExits(Environment.ProcessId);
        return new Server(connectionString, server);
    }

    private sealed record Server(string AdminConnectionString, PrivatePostgresServer? Private);
}
