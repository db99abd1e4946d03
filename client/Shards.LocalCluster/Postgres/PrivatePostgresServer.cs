using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Npgsql;
using Shards.Postgres;

namespace Shards.LocalCluster.Postgres;

/// <summary>
/// A throw-away PostgreSQL cluster in a folder of its own, started from the machine's binaries and
/// listening on 127.0.0.1 only (no Unix socket, trust authentication: it is private to this machine).
/// As root it runs the server as the <c>postgres</c> user, because initdb refuses to run as root.
/// </summary>
public sealed class PrivatePostgresServer
{
    private const string SuperUser = "postgres";
    private readonly PrivatePostgresOptions _options;
    private readonly PostgresBinaries _binaries;

    private PrivatePostgresServer(PrivatePostgresOptions options, PostgresBinaries binaries)
    {
        _options = options;
        _binaries = binaries;
        RootDirectory = Path.GetFullPath(options.Directory);
    }

    /// <summary>The folder holding <c>data/</c>, <c>postgres.log</c> and <c>instance.json</c>.</summary>
    public string RootDirectory { get; }

    public string DataDirectory => Path.Combine(RootDirectory, "data");

    public string LogFile => Path.Combine(RootDirectory, "postgres.log");

    private string InstanceFile => Path.Combine(RootDirectory, "instance.json");

    /// <summary>Prepares a server object; nothing starts yet. Throws when the binaries are missing.</summary>
    public static PrivatePostgresServer Create(PrivatePostgresOptions options) =>
        new(options, PostgresBinaries.Locate(options.BinDirectory));

    /// <summary>Connection string for a database on this server (default: the configured one).</summary>
    public string ConnectionStringFor(int port, string? database = null) => new NpgsqlConnectionStringBuilder
    {
        Host = IPAddress.Loopback.ToString(),
        Port = port,
        Database = database ?? _options.Database,
        Username = SuperUser,
        MaxPoolSize = 100,
        Timeout = 5,
        CommandTimeout = 30,
    }.ConnectionString;

    /// <summary>Whether the server runs, and on which port.</summary>
    public async Task<PrivatePostgresStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            return new PrivatePostgresStatus(false, false, null, RootDirectory, null);
        }

        var status = await RunAsOwnerAsync(_binaries.PgCtl, ["status", "-D", DataDirectory], cancellationToken);
        var running = status.ExitCode == 0;
        var instance = running ? ReadInstance() : null;
        var connectionString = instance is null ? null : ConnectionStringFor(instance.Port, instance.Database);
        return new PrivatePostgresStatus(true, running, instance?.Port, RootDirectory, connectionString);
    }

    /// <summary>
    /// Initialises the cluster when the folder is new, starts it unless it already runs, creates the database,
    /// and returns its connection string. Idempotent.
    /// </summary>
    public async Task<string> StartAsync(CancellationToken cancellationToken = default)
    {
        await PrepareRootDirectoryAsync(cancellationToken);
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            await InitialiseAsync(cancellationToken);
        }

        var status = await GetStatusAsync(cancellationToken);
        if (status is { Running: true, Port: { } runningPort })
        {
            await EnsureDatabaseAsync(runningPort, cancellationToken);
            return ConnectionStringFor(runningPort);
        }

        // Back on its previous port when that is still free, so that the connection strings silos and clients hold
        // (e.g. across 'shards db stop' / 'start', or a PostgreSQL restart under load) keep working.
        var port = _options.Port > 0 ? _options.Port
            : ReadInstance() is { Port: > 0 } previous && IsLoopbackPortFree(previous.Port) ? previous.Port
            : FreeLoopbackPort();
        if (ReadInstance()?.Port == port)
        {
            // Back on the same port: connections this process pooled before the stop were ended by the old server
            // (57P01) and would fail once each; drop them (Npgsql's own pools and every data source registry's).
            PostgresDataSources.ClearAllPools();
        }

        var start = await RunAsOwnerAsync(
            _binaries.PgCtl,
            ["start", "-w", "-t", ((int)_options.CommandTimeout.TotalSeconds).ToString(), "-D", DataDirectory, "-l", LogFile, "-o", $"-p {port}"],
            cancellationToken);
        if (!start.Succeeded)
        {
            throw new PostgresNotAvailableException(
                $"PostgreSQL did not start on 127.0.0.1:{port}: {start.Diagnostics}{Environment.NewLine}{LogTail()}");
        }

        await File.WriteAllTextAsync(InstanceFile, JsonSerializer.Serialize(new PrivatePostgresInstance(port, _options.Database)), cancellationToken);
        await EnsureDatabaseAsync(port, cancellationToken);
        return ConnectionStringFor(port);
    }

    /// <summary>Stops the server (fast shutdown: open sessions are ended, committed data is kept). Idempotent.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        var status = await GetStatusAsync(cancellationToken);
        if (!status.Running)
        {
            return;
        }

        var stop = await RunAsOwnerAsync(_binaries.PgCtl, ["stop", "-w", "-m", "fast", "-D", DataDirectory], cancellationToken);
        if (!stop.Succeeded)
        {
            throw new PostgresNotAvailableException($"PostgreSQL did not stop: {stop.Diagnostics}");
        }
    }

    /// <summary>Stops the server and deletes its folder.</summary>
    public async Task DestroyAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync(cancellationToken);
        if (Directory.Exists(RootDirectory))
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
    }

    /// <summary>
    /// Stops the server and deletes its folder once process <paramref name="ownerPid"/> is gone, however it ends
    /// (a test host that is killed never runs its exit handlers). A detached shell watches the owner.
    /// </summary>
    public void DestroyWhenProcessExits(int ownerPid)
    {
        var pgCtl = Environment.IsPrivilegedProcess ? $"runuser -u {SuperUser} -- {Quote(_binaries.PgCtl)}" : Quote(_binaries.PgCtl);
        var script =
            $"while kill -0 {ownerPid} 2>/dev/null; do sleep 1; done; " +
            $"{pgCtl} stop -D {Quote(DataDirectory)} -m immediate >/dev/null 2>&1; rm -rf {Quote(RootDirectory)}";
        var startInfo = new System.Diagnostics.ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "bash", "-c", script })
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var watchdog = System.Diagnostics.Process.Start(startInfo)
            ?? throw new InvalidOperationException("Could not start the PostgreSQL watchdog.");
    }

    private static string Quote(string path) => "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private async Task InitialiseAsync(CancellationToken cancellationToken)
    {
        var init = await RunAsOwnerAsync(
            _binaries.InitDb,
            ["-D", DataDirectory, "--auth=trust", "-U", SuperUser, "-E", "UTF8", "--locale=C"],
            cancellationToken);
        if (!init.Succeeded)
        {
            throw new PostgresNotAvailableException($"initdb failed in {DataDirectory}: {init.Diagnostics}");
        }

        // Private by construction: loopback TCP only, no Unix socket; enough connections for several silos (each holds
        // pools for membership, reminders and, per storage and shard, the ADO.NET storage and the group committers).
        await File.AppendAllTextAsync(
            Path.Combine(DataDirectory, "postgresql.conf"),
            """

            # Added by Shards (private server)
            listen_addresses = '127.0.0.1'
            unix_socket_directories = ''
            max_connections = 1000
            logging_collector = off
            """,
            cancellationToken);
    }

    /// <summary>
    /// Creates <paramref name="database"/> on the running server unless it exists (e.g. the shard databases
    /// <c>shards_s0</c>, <c>shards_s1</c>), and returns its connection string.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string database, CancellationToken cancellationToken = default)
    {
        var status = await GetStatusAsync(cancellationToken);
        if (status is not { Running: true, Port: { } port })
        {
            throw new PostgresNotAvailableException($"The private PostgreSQL in {RootDirectory} does not run: start it with 'shards db start'.");
        }

        await EnsureDatabaseAsync(port, database, cancellationToken);
        return ConnectionStringFor(port, database);
    }

    private Task EnsureDatabaseAsync(int port, CancellationToken cancellationToken) => EnsureDatabaseAsync(port, _options.Database, cancellationToken);

    private async Task EnsureDatabaseAsync(int port, string database, CancellationToken cancellationToken)
    {
        if (!IsPlainIdentifier(database))
        {
            throw new ArgumentException($"Database name '{database}' must be lower-case letters, digits and underscores.");
        }

        // Not from the pool: right after a restart the pool still holds connections the old server ended (57P01).
        var admin = new NpgsqlConnectionStringBuilder(ConnectionStringFor(port, "postgres")) { Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    internal static bool IsPlainIdentifier(string name) =>
        name.Length is > 0 and <= 63 && (char.IsAsciiLetterLower(name[0]) || name[0] == '_') &&
        name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');

    private async Task PrepareRootDirectoryAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(RootDirectory);
        if (!Environment.IsPrivilegedProcess)
        {
            return;
        }

        // initdb refuses root: the postgres user owns the folder and runs the server.
        var chown = await ProcessRunner.RunAsync(
            "chown", ["-R", $"{SuperUser}:{SuperUser}", RootDirectory], TimeSpan.FromSeconds(30), cancellationToken);
        if (!chown.Succeeded)
        {
            throw new PostgresNotAvailableException(
                $"Could not hand {RootDirectory} to the '{SuperUser}' user ({chown.Diagnostics}). " +
                $"The Debian package creates that user: {PostgresBinaries.InstallCommand}");
        }

        var reachable = await ProcessRunner.RunAsync(
            "runuser", ["-u", SuperUser, "--", "test", "-w", RootDirectory], TimeSpan.FromSeconds(30), cancellationToken);
        if (!reachable.Succeeded)
        {
            throw new PostgresNotAvailableException(
                $"The '{SuperUser}' user cannot write to {RootDirectory} (a parent folder is private to root?). " +
                "Set Shards__Postgres__Directory to a folder it can reach, e.g. /var/tmp/shards-postgres.");
        }
    }

    private Task<ProcessResult> RunAsOwnerAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var timeout = _options.CommandTimeout + TimeSpan.FromSeconds(5);
        return Environment.IsPrivilegedProcess
            ? ProcessRunner.RunAsync("runuser", ["-u", SuperUser, "--", program, .. arguments], timeout, cancellationToken)
            : ProcessRunner.RunAsync(program, arguments, timeout, cancellationToken);
    }

    private PrivatePostgresInstance? ReadInstance()
    {
        try
        {
            return File.Exists(InstanceFile)
                ? JsonSerializer.Deserialize<PrivatePostgresInstance>(File.ReadAllText(InstanceFile))
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private string LogTail()
    {
        if (!File.Exists(LogFile))
        {
            return string.Empty;
        }

        var lines = File.ReadAllLines(LogFile);
        return "Last lines of " + LogFile + ":" + Environment.NewLine + string.Join(Environment.NewLine, lines.TakeLast(10));
    }

    /// <summary>Whether nothing listens on 127.0.0.1:<paramref name="port"/> right now.</summary>
    public static bool IsLoopbackPortFree(int port) => LoopbackPorts.IsFree(port);

    /// <summary>A port that was free a moment ago on 127.0.0.1, outside the kernel's ephemeral range (<see cref="LoopbackPorts"/>).</summary>
    public static int FreeLoopbackPort() => LoopbackPorts.Free();

    private sealed record PrivatePostgresInstance(int Port, string Database);
}

/// <summary>What <c>shards db status</c> shows.</summary>
public sealed record PrivatePostgresStatus(bool Initialised, bool Running, int? Port, string Directory, string? ConnectionString);
