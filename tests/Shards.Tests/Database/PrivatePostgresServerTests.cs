using Npgsql;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;

namespace Shards.Tests.Database;

[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class PrivatePostgresServerTests
{
    [Fact]
    public async Task Start_listens_on_loopback_only_keeps_data_across_restart_and_stop_is_idempotent()
    {
        var root = Path.Combine(Path.GetTempPath(), $"shards-pg-test-{Guid.NewGuid():N}");
        var server = PrivatePostgresServer.Create(new PrivatePostgresOptions { Directory = root, Database = "shards_private_test" });
        try
        {
            var connectionString = await server.StartAsync();
            var status = await server.GetStatusAsync();
            Assert.True(status.Running);
            Assert.Equal("127.0.0.1", new NpgsqlConnectionStringBuilder(connectionString).Host);

            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                Assert.Equal("127.0.0.1", await Scalar<string>(connection, "SHOW listen_addresses"));
                Assert.Equal(string.Empty, await Scalar<string>(connection, "SHOW unix_socket_directories"));
                await Scalar<int>(connection, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42); SELECT 1");
            }

            Assert.Equal(connectionString, await server.StartAsync()); // already running: same server, same port

            await server.StopAsync();
            Assert.False((await server.GetStatusAsync()).Running);
            await server.StopAsync(); // idempotent

            var restarted = await server.StartAsync();
            await using (var connection = new NpgsqlConnection(restarted))
            {
                await connection.OpenAsync();
                Assert.Equal(42, await Scalar<int>(connection, "SELECT v FROM kept"));
            }
        }
        finally
        {
            await server.DestroyAsync();
        }

        Assert.False(Directory.Exists(root));
    }

    [Fact]
    public void Missing_binaries_name_the_package_to_install()
    {
        var error = Assert.Throws<PostgresNotAvailableException>(() => PostgresBinaries.Locate("/nonexistent/bin"));
        Assert.Contains("/nonexistent/bin", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install", PostgresBinaries.InstallCommand, StringComparison.Ordinal);
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
