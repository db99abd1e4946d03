using Npgsql;
using Shards.LocalCluster;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;

namespace Shards.Tests.Database;

[Trait(TestCategories.Name, TestCategories.Integration)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
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
    public async Task A_new_server_asks_every_connection_for_its_generated_password_kept_in_files_only_its_owner_reads()
    {
        var root = Path.Combine(Path.GetTempPath(), $"shards-pg-test-{Guid.NewGuid():N}");
        var server = PrivatePostgresServer.Create(new PrivatePostgresOptions { Directory = root, Database = "shards_private_test" });
        try
        {
            var connectionString = await server.StartAsync();
            var password = new NpgsqlConnectionStringBuilder(connectionString).Password;
            Assert.True(password is { Length: >= 32 }, "the connection string holds a generated password of at least 128 bits");
            Assert.Equal(password, (await File.ReadAllTextAsync(Path.Combine(root, "password"))).Trim());
            Assert.Equal($"127.0.0.1:*:*:postgres:{password}", (await File.ReadAllTextAsync(Path.Combine(root, "pgpass"))).Trim());
            foreach (var file in new[] { "password", "pgpass", "instance.json" })
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(root, file)));
                Assert.Equal(await UserIdAsync(), await OwnerIdAsync(Path.Combine(root, file)));
            }

            Assert.Equal(["instance.json", "password", "pgpass", "postgres.log"], Directory.GetFiles(root).Select(Path.GetFileName).Order());
            Assert.DoesNotContain(HbaMethods(root), method => method != "scram-sha-256");
            await AssertPasswordRequiredAsync(connectionString);
            Assert.Equal(connectionString, (await server.GetStatusAsync()).ConnectionString);
        }
        finally
        {
            await server.DestroyAsync();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_server_initialised_with_trust_asks_for_a_password_from_its_next_start_on(bool runningBefore)
    {
        var root = Path.Combine(Path.GetTempPath(), $"shards-pg-test-{Guid.NewGuid():N}");
        var binaries = PostgresBinaries.Locate();
        var reports = new List<string>();
        var server = PrivatePostgresServer.Create(new PrivatePostgresOptions { Directory = root, Database = "shards_private_test" }, reports.Add);
        try
        {
            await InitialiseWithTrustAsync(binaries, root, start: runningBefore);
            Assert.False(File.Exists(Path.Combine(root, "password")));

            var connectionString = await server.StartAsync();

            foreach (var file in new[] { "password", "pgpass", "instance.json" })
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(root, file)));
            }

            Assert.DoesNotContain(HbaMethods(root), method => method != "scram-sha-256");
            await AssertPasswordRequiredAsync(connectionString);
            await server.StopAsync();
            Assert.Equal(connectionString, await server.StartAsync());
            await AssertPasswordRequiredAsync(connectionString);
            Assert.Contains("password", Assert.Single(reports), StringComparison.Ordinal); // said once, at the switch
        }
        finally
        {
            await server.DestroyAsync();
        }
    }

    [Fact]
    public void Missing_binaries_name_the_package_to_install()
    {
        var error = Assert.Throws<PostgresNotAvailableException>(() => PostgresBinaries.Locate("/nonexistent/bin"));
        Assert.Contains("/nonexistent/bin", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install", PostgresBinaries.InstallCommand, StringComparison.Ordinal);
    }

    /// <summary>Opens with the password; a connection without it, or with a wrong one, is refused by the server.</summary>
    private static async Task AssertPasswordRequiredAsync(string connectionString)
    {
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            Assert.Equal(1, await Scalar<int>(connection, "SELECT 1"));
        }

        var withoutPassword = new NpgsqlConnectionStringBuilder(connectionString) { Password = null, Pooling = false }.ConnectionString;
        var missing = await Assert.ThrowsAnyAsync<NpgsqlException>(async () =>
        {
            await using var connection = new NpgsqlConnection(withoutPassword);
            await connection.OpenAsync();
        });
        Assert.Contains("password", missing.Message, StringComparison.OrdinalIgnoreCase);

        var wrongPassword = new NpgsqlConnectionStringBuilder(connectionString) { Password = "not-the-password", Pooling = false }.ConnectionString;
        var wrong = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var connection = new NpgsqlConnection(wrongPassword);
            await connection.OpenAsync();
        });
        Assert.Equal(PostgresErrorCodes.InvalidPassword, wrong.SqlState);
    }

    /// <summary>The authentication methods of pg_hba.conf's rules.</summary>
    private static IEnumerable<string> HbaMethods(string root) =>
        File.ReadAllLines(Path.Combine(root, "data", "pg_hba.conf"))
            .Select(line => line.Split('#')[0].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length > 0)
            .Select(fields => fields[^1])
            .ToList();

    /// <summary>A cluster as Shards initialised it before passwords (initdb --auth=trust), stopped or running.</summary>
    private static async Task InitialiseWithTrustAsync(PostgresBinaries binaries, string root, bool start)
    {
        Directory.CreateDirectory(root);
        string[] asOwner = Environment.IsPrivilegedProcess ? ["runuser", "-u", "postgres", "--"] : [];
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync(["chown", "postgres:postgres", root]);
        }

        var data = Path.Combine(root, "data");
        await RunAsync([.. asOwner, binaries.InitDb, "-D", data, "--auth=trust", "-U", "postgres", "-E", "UTF8", "--locale=C"]);
        await File.AppendAllTextAsync(
            Path.Combine(data, "postgresql.conf"),
            "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nlogging_collector = off\n");
        if (start)
        {
            var port = PrivatePostgresServer.FreeLoopbackPort();
            await RunAsync([.. asOwner, binaries.PgCtl, "start", "-w", "-D", data, "-l", Path.Combine(root, "postgres.log"), "-o", $"-p {port}"]);
            await File.WriteAllTextAsync(Path.Combine(root, "instance.json"), $$"""{"Port":{{port}},"Database":"shards_private_test"}""");
        }
    }

    private static async Task<string> RunAsync(string[] command)
    {
        var result = await ProcessRunner.RunAsync(command[0], command[1..], TimeSpan.FromSeconds(60));
        Assert.True(result.Succeeded, $"{string.Join(' ', command)}: {result.Diagnostics}");
        return result.StandardOutput.Trim();
    }

    private static Task<string> UserIdAsync() => RunAsync(["id", "-u"]);

    private static Task<string> OwnerIdAsync(string path) => RunAsync(["stat", "-c", "%u", path]);

    private static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
