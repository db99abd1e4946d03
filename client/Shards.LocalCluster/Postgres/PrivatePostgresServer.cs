using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Npgsql;
using Shards.Postgres;

namespace Shards.LocalCluster.Postgres;

/// <summary>
/// A throw-away PostgreSQL cluster in a folder of its own, started from the machine's binaries and
/// listening on 127.0.0.1 only (no Unix socket). Every connection authenticates with scram-sha-256 and a generated
/// password kept in <see cref="PasswordFile"/> (mode 600), so other users of the machine cannot connect.
/// As root it runs the server as the <c>postgres</c> user, because initdb refuses to run as root.
/// </summary>
public sealed partial class PrivatePostgresServer : IPrivatePostgres
{
    private const string SuperUser = ServerUserFiles.SuperUser;
    private const string PasswordMethod = "scram-sha-256";
    private readonly PrivatePostgresOptions _options;
    private readonly PostgresBinaries _binaries;
    private readonly Action<string> _report;

    private PrivatePostgresServer(PrivatePostgresOptions options, PostgresBinaries binaries, Action<string>? report)
    {
        _options = options;
        _binaries = binaries;
        _report = report ?? (_ => { });
        RootDirectory = Path.GetFullPath(options.Directory);
    }

    /// <summary>The folder holding <c>data/</c>, <c>postgres.log</c>, <c>instance.json</c>, <c>password</c> and <c>pgpass</c>.</summary>
    public string RootDirectory { get; }

    public bool IsHighlyAvailable => false;

    public string DataDirectory => Path.Combine(RootDirectory, "data");

    public string LogFile => Path.Combine(RootDirectory, "postgres.log");

    /// <summary>The superuser's password (mode 600, owned by whoever runs Shards, also when the server runs as <c>postgres</c>).</summary>
    public string PasswordFile => Path.Combine(RootDirectory, "password");

    /// <summary>The same password as a libpq password file (mode 600), for <c>PGPASSFILE=... psql -h 127.0.0.1 -p PORT -U postgres</c>.</summary>
    public string PgpassFile => Path.Combine(RootDirectory, "pgpass");

    private string InstanceFile => Path.Combine(RootDirectory, "instance.json");

    private string HbaFile => Path.Combine(DataDirectory, "pg_hba.conf");

    /// <summary>
    /// Prepares a server object; nothing starts yet. Throws when the binaries are missing. <paramref name="report"/> hears
    /// of a one-off change a user should know about (an old server's switch from trust to password authentication).
    /// </summary>
    public static PrivatePostgresServer Create(PrivatePostgresOptions options, Action<string>? report = null) =>
        new(options, PostgresBinaries.Locate(options.BinDirectory), report);

    /// <summary>Connection string for a database on this server (default: the configured one). It holds the password: never log it.</summary>
    public string ConnectionStringFor(int port, string? database = null) => new NpgsqlConnectionStringBuilder
    {
        Host = Host,
        Port = port,
        Database = database ?? _options.Database,
        Username = SuperUser,
        Password = ReadPassword(),
        MaxPoolSize = 100,
        Timeout = 5,
        CommandTimeout = 30,
    }.ConnectionString;

    /// <summary>
    /// <c>host:port/database</c> of this server where it last ran (null before its first start), as a launcher's
    /// <c>cluster.json</c> names its database: known while the server is stopped too.
    /// </summary>
    public string? LastAddress => ReadInstance() is { Port: > 0 } instance
        ? $"{instance.Host ?? IPAddress.Loopback.ToString()}:{instance.Port}/{instance.Database ?? _options.Database}"
        : null;

    /// <summary>The address it listens on (where it last started): 127.0.0.1, or its simulated host's (<see cref="PostgresPlacement"/>).</summary>
    public string Host => ReadInstance()?.Host ?? IPAddress.Loopback.ToString();

    /// <summary><paramref name="connectionString"/> with its password, if any, replaced by asterisks: for showing it.</summary>
    public static string Masked(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!string.IsNullOrEmpty(builder.Password))
        {
            builder.Password = "********";
        }

        return builder.ConnectionString;
    }

    /// <summary>Whether the server runs, and on which port.</summary>
    public async Task<PrivatePostgresStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            return new PrivatePostgresStatus(false, false, null, RootDirectory, null, PasswordFile, PgpassFile);
        }

        var status = await RunAsOwnerAsync(_binaries.PgCtl, ["status", "-D", DataDirectory], cancellationToken);
        var running = status.ExitCode == 0;
        var instance = running ? ReadInstance() : null;
        var connectionString = instance is null ? null : ConnectionStringFor(instance.Port, instance.Database);
        return new PrivatePostgresStatus(true, running, instance?.Port, RootDirectory, connectionString, PasswordFile, PgpassFile);
    }

    /// <summary>
    /// Initialises the cluster when the folder is new, starts it unless it already runs, creates the database,
    /// and returns its connection string. Idempotent. A cluster initialised before passwords (trust authentication)
    /// gets one here, and asks every connection for it from then on.
    /// </summary>
    public Task<string> StartAsync(CancellationToken cancellationToken = default) => StartAsync(placement: null, cancellationToken);

    /// <summary>
    /// As <see cref="StartAsync(CancellationToken)"/>, on <paramref name="placement"/>'s simulated host (null: 127.0.0.1 of
    /// this machine). A server that runs elsewhere is stopped and started where asked.
    /// </summary>
    public async Task<string> StartAsync(PostgresPlacement? placement, CancellationToken cancellationToken = default)
    {
        var host = placement?.ListenAddress ?? IPAddress.Loopback.ToString();
        await PrepareRootDirectoryAsync(cancellationToken);
        var initialised = File.Exists(Path.Combine(DataDirectory, "PG_VERSION"));
        var trusting = initialised && TrustsConnections();
        if (initialised && !trusting && !File.Exists(PasswordFile))
        {
            throw new PostgresNotAvailableException(
                $"{PasswordFile} is missing, and the private PostgreSQL in {DataDirectory} asks for that password. Restore the file, " +
                $"or start over with an empty server (its data is lost): shards db stop; rm -rf {RootDirectory}");
        }

        var password = EnsurePasswordFiles();
        ServerUserFiles.RestrictToOwner(InstanceFile); // written world-readable before passwords

        if (!initialised)
        {
            await InitialiseAsync(password, cancellationToken);
        }

        var status = await GetStatusAsync(cancellationToken);
        if (status.Running && Host != host)
        {
            _report($"The private PostgreSQL runs on {Host}; restarting it on {host}.");
            await StopAsync(cancellationToken);
            status = await GetStatusAsync(cancellationToken);
        }

        if (status is { Running: true, Port: { } runningPort })
        {
            if (trusting)
            {
                await RequirePasswordAsync(runningPort, password, cancellationToken);
            }

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

        string[] startArguments =
        [
            "start", "-w", "-t", ((int)_options.CommandTimeout.TotalSeconds).ToString(), "-D", DataDirectory, "-l", LogFile,
            "-o", placement is null ? $"-p {port}" : $"-p {port} -c listen_addresses={host}",
        ];
        if (placement is not null)
        {
            await AllowClientsAsync(placement.ClientCidr, cancellationToken);
        }

        var start = placement is null
            ? await RunAsOwnerAsync(_binaries.PgCtl, startArguments, cancellationToken)
            : await RunAsOwnerAsync("ip", ["netns", "exec", placement.Namespace, "runuser", "-u", SuperUser, "--", _binaries.PgCtl, .. startArguments], cancellationToken, alreadyOwner: true);
        if (!start.Succeeded)
        {
            throw new PostgresNotAvailableException(
                $"PostgreSQL did not start on {host}:{port}: {start.Diagnostics}{Environment.NewLine}{LogTail()}");
        }

        ServerUserFiles.WriteOwnerOnly(InstanceFile, JsonSerializer.Serialize(new PrivatePostgresInstance(port, _options.Database, placement is null ? null : host)));
        if (trusting)
        {
            await RequirePasswordAsync(port, password, cancellationToken);
        }

        await EnsureDatabaseAsync(port, cancellationToken);
        return ConnectionStringFor(port);
    }

    public async Task<string?> RunningConnectionStringAsync(CancellationToken cancellationToken = default) =>
        (await GetStatusAsync(cancellationToken)).ConnectionString;

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
    /// (a test host that is killed never runs its exit handlers). A detached shell watches the owner; it does nothing
    /// when the folder was deleted meanwhile (<see cref="DestroyAsync"/>), even if another server was created there since.
    /// </summary>
    public void DestroyWhenProcessExits(int ownerPid)
    {
        var pgCtl = Environment.IsPrivilegedProcess ? $"runuser -u {SuperUser} -- {DetachedShell.Quote(_binaries.PgCtl)}" : DetachedShell.Quote(_binaries.PgCtl);
        DetachedShell.StartWatchdog(
            ownerPid, RootDirectory,
            $"{pgCtl} stop -D {DetachedShell.Quote(DataDirectory)} -m immediate >/dev/null 2>&1; rm -rf {DetachedShell.Quote(RootDirectory)}",
            "the PostgreSQL watchdog");
    }

    private async Task InitialiseAsync(string password, CancellationToken cancellationToken)
    {
        // initdb reads the password from a file: readable by the server's user only, and gone once initdb is done.
        var passwordForInitDb = Path.Combine(RootDirectory, $"initdb-password-{Guid.NewGuid():N}");
        ProcessResult init;
        try
        {
            ServerUserFiles.WriteOwnerOnly(passwordForInitDb, password + "\n");
            await ServerUserFiles.HandToServerUserAsync(passwordForInitDb, cancellationToken);
            init = await RunAsOwnerAsync(
                _binaries.InitDb,
                ["-D", DataDirectory, $"--auth={PasswordMethod}", $"--pwfile={passwordForInitDb}", "-U", SuperUser, "-E", "UTF8", "--locale=C"],
                cancellationToken);
        }
        finally
        {
            File.Delete(passwordForInitDb);
        }

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

    /// <summary>Whether pg_hba.conf lets any connection in without a password (a cluster initialised before passwords).</summary>
    private bool TrustsConnections() => TrustRule().IsMatch(File.ReadAllText(HbaFile));

    /// <summary>
    /// Turns a trusting cluster into one that asks for the password: sets it on a connection that trust still lets in,
    /// rewrites pg_hba.conf's trust rules to scram-sha-256, reloads, and waits until a wrong password is refused.
    /// </summary>
    private async Task RequirePasswordAsync(int port, string password, CancellationToken cancellationToken)
    {
        var admin = new NpgsqlConnectionStringBuilder(ConnectionStringFor(port, "postgres")) { Pooling = false };
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            // The password is hex (no quote to escape); ALTER ROLE takes no parameters.
            await using var alter = new NpgsqlCommand(
                $"SET password_encryption = '{PasswordMethod}'; ALTER ROLE {SuperUser} PASSWORD '{password}'", connection);
            await alter.ExecuteNonQueryAsync(cancellationToken);
            await File.WriteAllTextAsync(HbaFile, TrustRule().Replace(await File.ReadAllTextAsync(HbaFile, cancellationToken), $"${{rule}}{PasswordMethod}"), cancellationToken);
            await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
            await reload.ExecuteScalarAsync(cancellationToken);
        }

        // The postmaster rereads pg_hba.conf when the reload's signal arrives; connections until then are still trusted.
        admin.Password = "not-the-password";
        var deadline = DateTime.UtcNow + _options.CommandTimeout;
        while (true)
        {
            try
            {
                await using var probe = new NpgsqlConnection(admin.ConnectionString);
                await probe.OpenAsync(cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidPassword)
            {
                break;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new PostgresNotAvailableException($"The private PostgreSQL in {DataDirectory} still trusts connections after a reload of {HbaFile}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }

        _report($"The private PostgreSQL in {RootDirectory} trusted every local connection: it now asks for the password in {PasswordFile} ({PasswordMethod}).");
    }

    /// <summary>A pg_hba.conf rule (not a comment) whose method is trust; group <c>rule</c> is the rest of it.</summary>
    [GeneratedRegex(@"^(?<rule>[ \t]*[^#\s][^#\n]*[ \t])trust(?=[ \t]*(#.*)?$)", RegexOptions.Multiline)]
    private static partial Regex TrustRule();

    /// <summary>The password of <see cref="PasswordFile"/>, a new random one (256 bits, hex) when it is missing; <see cref="PgpassFile"/> beside it.</summary>
    private string EnsurePasswordFiles()
    {
        var password = ReadPassword();
        if (password is null)
        {
            password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            ServerUserFiles.WriteOwnerOnly(PasswordFile, password + "\n");
        }

        // libpq's format: host:port:database:user:password; any port, as the server may move to another at a start.
        ServerUserFiles.WriteOwnerOnly(PgpassFile, $"{IPAddress.Loopback}:*:*:{SuperUser}:{password}\n");
        return password;
    }

    private string? ReadPassword() =>
        File.Exists(PasswordFile) && File.ReadAllText(PasswordFile).Trim() is { Length: > 0 } password ? password : null;

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

        // initdb refuses root: the postgres user owns the folder and runs the server. The files only Shards reads stay
        // root's (mode 600): the password is not the server user's to read from disk.
        await ServerUserFiles.ChownAsync(["-R", $"{SuperUser}:{SuperUser}", RootDirectory], cancellationToken);
        var ownFiles = new[] { PasswordFile, PgpassFile, InstanceFile }.Where(File.Exists).ToList();
        if (ownFiles.Count > 0)
        {
            await ServerUserFiles.ChownAsync(["root:root", .. ownFiles], cancellationToken);
        }

        await ServerUserFiles.RequireWritableByServerUserAsync(RootDirectory, "Shards__Postgres__Directory", "/var/tmp/shards-postgres", cancellationToken);
    }

    private Task<ProcessResult> RunAsOwnerAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken, bool alreadyOwner = false)
    {
        var timeout = _options.CommandTimeout + TimeSpan.FromSeconds(5);
        return Environment.IsPrivilegedProcess && !alreadyOwner
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

    /// <summary>
    /// Lets password-authenticated connections from <paramref name="cidr"/> in (a simulated hosts' /24), besides loopback:
    /// one pg_hba.conf rule, added once.
    /// </summary>
    private async Task AllowClientsAsync(string cidr, CancellationToken cancellationToken)
    {
        var rule = $"host all all {cidr} {PasswordMethod}";
        var rules = await File.ReadAllTextAsync(HbaFile, cancellationToken);
        if (!rules.Split('\n').Any(line => line.Trim() == rule))
        {
            await File.AppendAllTextAsync(HbaFile, $"{Environment.NewLine}# Added by Shards for simulated hosts (cluster up --hosts){Environment.NewLine}{rule}{Environment.NewLine}", cancellationToken);
        }
    }

    /// <param name="Host">The address it listens on when not 127.0.0.1 (a simulated host's).</param>
    private sealed record PrivatePostgresInstance(int Port, string Database, string? Host = null);
}

/// <summary>
/// Where the private PostgreSQL runs with <c>cluster up --hosts</c>: in network namespace <paramref name="Namespace"/>,
/// listening on <paramref name="ListenAddress"/> only, and letting in clients of <paramref name="ClientCidr"/>.
/// </summary>
public sealed record PostgresPlacement(string Namespace, string ListenAddress, string ClientCidr);

/// <summary>What <c>shards db status</c> shows. <see cref="ConnectionString"/> holds the password: show <see cref="MaskedConnectionString"/>.</summary>
public sealed record PrivatePostgresStatus(
    bool Initialised, bool Running, int? Port, string Directory, [property: JsonIgnore] string? ConnectionString, string PasswordFile, string PgpassFile)
{
    public string? MaskedConnectionString => ConnectionString is null ? null : PrivatePostgresServer.Masked(ConnectionString);
}
