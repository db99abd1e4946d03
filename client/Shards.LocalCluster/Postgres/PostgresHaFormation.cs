using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using Shards.Postgres;

namespace Shards.LocalCluster.Postgres;

/// <summary>
/// A private pg_auto_failover formation on 127.0.0.1: a monitor, a primary and a synchronous standby, each a PostgreSQL
/// of its own under <see cref="RootDirectory"/>, each run by its <c>pg_autoctl run</c> keeper in a session of its own.
/// The monitor promotes the standby when the primary fails; while both nodes are healthy every commit waits for the
/// standby (<c>synchronous_standby_names = 'ANY 1 (...)'</c>), so an acknowledged write survives the primary's loss.
/// </summary>
/// <remarks>
/// Private like <see cref="PrivatePostgresServer"/>: servers listen on 127.0.0.1 only, every TCP connection asks for a
/// generated password (scram-sha-256), and the Unix sockets that pg_autoctl uses live in a folder only the server's
/// user can enter. As root everything runs as the <c>postgres</c> user (initdb refuses root). Clients connect with a
/// multi-host connection string (<see cref="ConnectionStringFor(string?)"/>) that asks for the read-write node, so they
/// find the new primary after a failover.
/// </remarks>
public sealed class PostgresHaFormation : IPrivatePostgres
{
    /// <summary>The command a Debian user runs to get pg_auto_failover (its <c>pg_autoctl</c> 2.0 comes with it).</summary>
    public const string InstallCommand = "sudo apt-get install -y postgresql-15-auto-failover";

    private const string SuperUser = ServerUserFiles.SuperUser;
    private const string FormationName = "default";
    private static readonly string[] s_nodeNames = ["node1", "node2"];

    private readonly PostgresHaOptions _options;
    private readonly PostgresBinaries _binaries;
    private readonly string _pgAutoctl;
    private readonly Action<string> _report;

    private PostgresHaFormation(PostgresHaOptions options, PostgresBinaries binaries, string pgAutoctl, Action<string>? report)
    {
        _options = options;
        _binaries = binaries;
        _pgAutoctl = pgAutoctl;
        _report = report ?? (_ => { });
        RootDirectory = Path.GetFullPath(options.Directory);
    }

    public string RootDirectory { get; }

    public bool IsHighlyAvailable => true;

    /// <summary>The superuser's password (mode 600, owned by whoever runs Shards).</summary>
    public string PasswordFile => Path.Combine(RootDirectory, "password");

    /// <summary>The password as a libpq password file for the server's user: pg_autoctl, replication and health checks read it.</summary>
    public string PgpassFile => Path.Combine(RootDirectory, "pgpass");

    private string FormationFile => Path.Combine(RootDirectory, "formation.json");

    private string SocketDirectory => Path.Combine(RootDirectory, "sockets");

    private string MonitorData => Path.Combine(RootDirectory, "monitor");

    private string DataOf(string node) => Path.Combine(RootDirectory, node);

    private string LogOf(string node) => Path.Combine(RootDirectory, node + ".log");

    /// <summary>Whether a formation was created in <see cref="RootDirectory"/> (it may be stopped).</summary>
    public bool Initialised => ReadFormation() is not null && File.Exists(Path.Combine(MonitorData, "PG_VERSION"));

    /// <summary>
    /// Prepares a formation object; nothing starts. Throws <see cref="PostgresNotAvailableException"/> with the install
    /// command when PostgreSQL's binaries or pg_autoctl are missing.
    /// </summary>
    public static PostgresHaFormation Create(PostgresHaOptions options, Action<string>? report = null) =>
        new(options, PostgresBinaries.Locate(options.BinDirectory), LocatePgAutoctl(), report);

    /// <summary>Whether <c>pg_autoctl</c> is installed (on PATH or in /usr/bin).</summary>
    public static bool IsInstalled => FindPgAutoctl() is not null;

    private static string LocatePgAutoctl() => FindPgAutoctl() ?? throw new PostgresNotAvailableException(
        $"pg_auto_failover's pg_autoctl was not found (needed by --ha). Install it with: {InstallCommand}");

    private static string? FindPgAutoctl()
    {
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin")
            .Select(dir => Path.Combine(dir, "pg_autoctl")).FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// The multi-host connection string of <paramref name="database"/> (default: the configured one): both nodes, the
    /// read-write one wanted. It holds the password: never log it.
    /// </summary>
    public string ConnectionStringFor(string? database = null)
    {
        var formation = ReadFormation() ?? throw new PostgresNotAvailableException($"No formation in {RootDirectory}: start one with 'shards db start --ha'.");
        return new NpgsqlConnectionStringBuilder
        {
            Host = string.Join(',', formation.Nodes.Select(n => $"127.0.0.1:{n.Port}")),
            Database = database ?? _options.Database,
            Username = SuperUser,
            Password = ReadPassword(),
            TargetSessionAttributes = "read-write",
            HostRecheckSeconds = Math.Max(1, (int)_options.HostRecheck.TotalSeconds),
            MaxPoolSize = 100,
            Timeout = 5,
            CommandTimeout = 30,
        }.ConnectionString;
    }

    /// <summary>
    /// Creates the formation when the folder is new, starts every keeper that does not run, waits until a primary takes
    /// writes and (for up to the command timeout) until the standby is in sync, and returns the connection string.
    /// </summary>
    public async Task<string> StartAsync(CancellationToken cancellationToken = default)
    {
        await PrepareRootDirectoryAsync(cancellationToken);
        if (!Initialised)
        {
            await InitialiseAsync(cancellationToken);
        }
        else
        {
            var formation = ReadFormation()!;
            await StartKeeperAsync(MonitorData, LogOf("monitor"), formation.MonitorPort, cancellationToken);
            await WaitForSocketAsync(formation.MonitorPort, "pg_auto_failover", cancellationToken);
            foreach (var node in formation.Nodes)
            {
                await StartKeeperAsync(DataOf(node.Name), LogOf(node.Name), node.Port, cancellationToken);
            }
        }

        await WaitForAsync(
            nodes => nodes.Any(n => n.IsWritablePrimary) && nodes.Any(n => n.IsSecondary),
            "a primary and a standby in sync", cancellationToken, required: false);
        await WaitForAsync(nodes => nodes.Any(n => n.IsWritablePrimary), "a primary that takes writes", cancellationToken);
        // The monitor keeps the states its nodes reported before a stop: only a connection proves the primary is back.
        var connectionString = ConnectionStringFor();
        await WaitUntilWritableAsync(connectionString, cancellationToken);
        return connectionString;
    }

    /// <summary>Waits until the read-write node accepts a connection (a new one each time, outside any pool).</summary>
    private async Task WaitUntilWritableAsync(string connectionString, CancellationToken cancellationToken)
    {
        var probe = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 2 }.ConnectionString;
        var deadline = DateTime.UtcNow + _options.CommandTimeout;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException ex) when (!cancellationToken.IsCancellationRequested)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new PostgresNotAvailableException(
                        $"The formation in {RootDirectory} has no node that takes writes after {_options.CommandTimeout.TotalSeconds:0} s ({ex.Message}). See the logs in {RootDirectory}.", ex);
                }

                await Task.Delay(200, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Whether any keeper of the formation (monitor or node) runs: a look at this machine's processes, without asking the
    /// monitor (every CLI command checks it, so it must cost no <c>pg_autoctl</c> run).
    /// </summary>
    public bool IsRunning => Initialised && KeeperSessions(RootDirectory).Any();

    public Task<string?> RunningConnectionStringAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(IsRunning ? ConnectionStringFor() : null);

    /// <summary>Stops the standby, then the primary, then the monitor (each keeper stops its PostgreSQL: fast shutdown). Idempotent.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (ReadFormation() is not { } formation)
        {
            return;
        }

        var states = await TryShowStateAsync(cancellationToken) ?? [];
        var order = formation.Nodes.OrderBy(n => states.FirstOrDefault(s => s.Name == n.Name)?.IsSecondary == true ? 0 : 1).Select(n => DataOf(n.Name)).Append(MonitorData);
        foreach (var pgdata in order)
        {
            await StopKeeperAsync(pgdata, cancellationToken);
        }
    }

    /// <summary>Stops everything and deletes the folder.</summary>
    public async Task DestroyAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync(cancellationToken);
        foreach (var session in KeeperSessions(RootDirectory))
        {
            PosixSignals.Send(-session, PosixSignals.SigKill);
        }

        if (Directory.Exists(RootDirectory))
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
    }

    /// <summary>
    /// Kills every process of the formation and deletes its folder once process <paramref name="ownerPid"/> is gone,
    /// however it ends (a detached shell watches the owner): for tests.
    /// </summary>
    public void DestroyWhenProcessExits(int ownerPid)
    {
        var root = DetachedShell.Quote(RootDirectory + "/");
        var script =
            $"for sid in $(ps -eo sid=,args= | awk -v r={root} 'index($0, \"pg_autoctl run --pgdata \" r) {{print $1}}'); do kill -9 -- -$sid; done; " +
            $"rm -rf {DetachedShell.Quote(RootDirectory)}";
        DetachedShell.StartWatchdog(ownerPid, RootDirectory, script, "the formation's watchdog");
    }

    /// <summary>The nodes as the monitor sees them, and which keepers run; <see cref="PostgresHaStatus.Initialised"/> false before the first start.</summary>
    public async Task<PostgresHaStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        if (ReadFormation() is not { } formation || !Initialised)
        {
            return new PostgresHaStatus(false, false, RootDirectory, null, null, [], PasswordFile);
        }

        var monitorRunning = KeeperSessionOf(MonitorData) is not null;
        var states = monitorRunning ? await TryShowStateAsync(cancellationToken) : null;
        var nodes = formation.Nodes.Select(n =>
        {
            var state = states?.FirstOrDefault(s => s.Name == n.Name);
            return new PostgresHaNodeStatus(
                n.Name, n.Port, KeeperSessionOf(DataOf(n.Name)) is not null, state?.ReportedState, state?.AssignedState, state?.Health == 1, state?.Lsn, state?.Timeline);
        }).ToList();
        var anyUp = monitorRunning || nodes.Any(n => n.KeeperRunning);
        return new PostgresHaStatus(
            true, anyUp, RootDirectory, formation.MonitorPort, anyUp ? ConnectionStringFor() : null, nodes, PasswordFile)
        {
            MonitorRunning = monitorRunning,
        };
    }

    /// <summary>
    /// <c>host:port,host:port/database</c> of the formation where it last ran (null before its first start), as a
    /// launcher's <c>cluster.json</c> names its database.
    /// </summary>
    public string? LastAddress => ReadFormation() is { } formation
        ? $"{string.Join(',', formation.Nodes.Select(n => $"127.0.0.1:{n.Port}"))}/{_options.Database}"
        : null;

    /// <summary>Creates <paramref name="database"/> on the primary unless it exists (the standby replays it), and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string database, CancellationToken cancellationToken = default)
    {
        if (!PrivatePostgresServer.IsPlainIdentifier(database))
        {
            throw new ArgumentException($"Database name '{database}' must be lower-case letters, digits and underscores.");
        }

        var admin = new NpgsqlConnectionStringBuilder(ConnectionStringFor("postgres")) { Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        return ConnectionStringFor(database);
    }

    /// <summary>The node in the given role now, as the monitor reports it; null when none is (or the monitor is down).</summary>
    public async Task<PostgresHaNodeStatus?> NodeInRoleAsync(PostgresHaRole role, CancellationToken cancellationToken = default)
    {
        var status = await GetStatusAsync(cancellationToken);
        return status.Nodes.FirstOrDefault(n => role == PostgresHaRole.Primary ? n.IsPrimary : n.IsSecondary);
    }

    /// <summary>
    /// SIGKILLs node <paramref name="node"/>'s keeper and its PostgreSQL together (the session they share), as a host
    /// that dies: the keeper would otherwise restart a killed postmaster within a second. Returns whether anything ran.
    /// </summary>
    public bool KillNode(string node)
    {
        RequireNode(node);
        return KeeperSessionOf(DataOf(node)) is { } session && PosixSignals.Send(-session, PosixSignals.SigKill);
    }

    /// <summary>Starts node <paramref name="node"/>'s keeper again (it rejoins as a standby, rewinding when it must).</summary>
    public async Task StartNodeAsync(string node, CancellationToken cancellationToken = default)
    {
        RequireNode(node);
        var port = ReadFormation()!.Nodes.Single(n => n.Name == node).Port;
        await StartKeeperAsync(DataOf(node), LogOf(node), port, cancellationToken);
    }

    /// <summary>A planned switchover (<c>pg_autoctl perform switchover</c>): the standby becomes primary, the primary its standby. Waits until done.</summary>
    public async Task SwitchoverAsync(CancellationToken cancellationToken = default)
    {
        var result = await RunAutoctlAsync(["perform", "switchover", "--pgdata", MonitorData, "--formation", FormationName], cancellationToken);
        if (!result.Succeeded)
        {
            throw new PostgresNotAvailableException($"pg_autoctl perform switchover failed: {LastLine(result.Diagnostics)}");
        }
    }

    /// <summary>Waits (up to the command timeout) until the monitor reports a primary and a standby in sync again.</summary>
    public Task WaitUntilHealthyAsync(CancellationToken cancellationToken = default) =>
        WaitForAsync(nodes => nodes.Any(n => n.IsWritablePrimary) && nodes.Any(n => n.IsSecondary), "a primary and a standby in sync", cancellationToken);

    private static void RequireNode(string node)
    {
        if (!s_nodeNames.Contains(node))
        {
            throw new ArgumentException($"No node '{node}' in the formation (nodes: {string.Join(", ", s_nodeNames)}).", nameof(node));
        }
    }

    private async Task InitialiseAsync(CancellationToken cancellationToken)
    {
        if (Directory.Exists(MonitorData) || s_nodeNames.Any(n => Directory.Exists(DataOf(n))))
        {
            throw new PostgresNotAvailableException(
                $"{RootDirectory} holds a formation that was not completed. Start over (its data is lost): shards db stop; rm -rf {RootDirectory}");
        }

        var formation = new FormationLayout(
            LoopbackPorts.Free(),
            s_nodeNames.Select(name => new FormationNode(name, LoopbackPorts.Free())).ToList());
        ServerUserFiles.WriteOwnerOnly(FormationFile, JsonSerializer.Serialize(formation));
        var password = ReadPassword()!;

        _report($"Creating the pg_auto_failover monitor on 127.0.0.1:{formation.MonitorPort} ...");
        await InitDbAsync(MonitorData, cancellationToken);
        await RunAutoctlOrThrowAsync(
            ["create", "monitor", "--pgdata", MonitorData, "--pgport", Port(formation.MonitorPort), "--pgctl", _binaries.PgCtl,
             "--hostname", "127.0.0.1", "--auth", "scram-sha-256", "--no-ssl"],
            "create the monitor", cancellationToken);
        await RunAutoctlOrThrowAsync(["config", "set", "--pgdata", MonitorData, "postgresql.listen_addresses", "127.0.0.1"], "configure the monitor", cancellationToken);
        await StartKeeperAsync(MonitorData, LogOf("monitor"), formation.MonitorPort, cancellationToken);
        await WaitForSocketAsync(formation.MonitorPort, "pg_auto_failover", cancellationToken);
        await ExecuteOverSocketAsync(formation.MonitorPort, "pg_auto_failover",
            [$"ALTER ROLE autoctl_node PASSWORD '{password}'", .. MonitorSettings(), "SELECT pg_reload_conf()"], cancellationToken);

        var monitorUri = $"postgres://autoctl_node@127.0.0.1:{formation.MonitorPort}/pg_auto_failover?sslmode=disable";
        foreach (var node in formation.Nodes)
        {
            var first = node == formation.Nodes[0];
            _report($"Creating {node.Name} on 127.0.0.1:{node.Port} ({(first ? "the primary" : "a synchronous standby, copied from the primary")}) ...");
            if (first)
            {
                await InitDbAsync(DataOf(node.Name), cancellationToken); // the standby is a base backup of it
            }

            await RunAutoctlOrThrowAsync(
                ["create", "postgres", "--pgdata", DataOf(node.Name), "--pgport", Port(node.Port), "--pgctl", _binaries.PgCtl,
                 "--listen", "127.0.0.1", "--hostname", "127.0.0.1", "--name", node.Name, "--dbname", _options.Database,
                 "--auth", "scram-sha-256", "--no-ssl", "--monitor", monitorUri],
                $"create {node.Name}", cancellationToken);
            await RunAutoctlOrThrowAsync(
                ["config", "set", "--pgdata", DataOf(node.Name), "timeout.network_partition_timeout", Seconds(_options.NetworkPartitionTimeout)],
                $"configure {node.Name}", cancellationToken);
            await StartKeeperAsync(DataOf(node.Name), LogOf(node.Name), node.Port, cancellationToken);
            if (first)
            {
                await WaitForAsync(nodes => nodes.Any(n => n.Name == node.Name && n.ReportedState == "single"), $"{node.Name} to run alone", cancellationToken);
                await WaitForSocketAsync(node.Port, _options.Database, cancellationToken);
                // The standby's copy and its streaming connect as this role, with the password in the pgpass file.
                await ExecuteOverSocketAsync(node.Port, _options.Database, [$"ALTER ROLE pgautofailover_replicator PASSWORD '{password}'"], cancellationToken);
            }
        }
    }

    private IEnumerable<string> MonitorSettings()
    {
        static string Ms(TimeSpan t) => ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        yield return $"ALTER SYSTEM SET pgautofailover.health_check_period = {Ms(_options.HealthCheckPeriod)}";
        yield return $"ALTER SYSTEM SET pgautofailover.health_check_timeout = {Ms(_options.HealthCheckPeriod)}";
        yield return "ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1";
        yield return $"ALTER SYSTEM SET pgautofailover.health_check_retry_delay = {Ms(_options.HealthCheckPeriod / 2)}";
        yield return $"ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = {Ms(_options.NodeConsideredUnhealthyTimeout)}";
        yield return $"ALTER SYSTEM SET pgautofailover.primary_demote_timeout = {Ms(_options.PrimaryDemoteTimeout)}";
    }

    /// <summary>
    /// initdb with password authentication over TCP and trust on the private socket folder; loopback only; and memory
    /// settings that override pg_autoctl's tuning, which sizes every node for the whole machine (6 GB of shared buffers
    /// each on 24 GB).
    /// </summary>
    private async Task InitDbAsync(string pgdata, CancellationToken cancellationToken)
    {
        var passwordForInitDb = Path.Combine(RootDirectory, $"initdb-password-{Guid.NewGuid():N}");
        ProcessResult init;
        try
        {
            ServerUserFiles.WriteOwnerOnly(passwordForInitDb, ReadPassword() + "\n");
            await ServerUserFiles.HandToServerUserAsync(passwordForInitDb, cancellationToken);
            init = await RunAsOwnerAsync(
                _binaries.InitDb,
                ["-D", pgdata, "--auth-local=trust", "--auth-host=scram-sha-256", $"--pwfile={passwordForInitDb}", "-U", SuperUser, "-E", "UTF8", "--locale=C"],
                cancellationToken);
        }
        finally
        {
            File.Delete(passwordForInitDb);
        }

        if (!init.Succeeded)
        {
            throw new PostgresNotAvailableException($"initdb failed in {pgdata}: {init.Diagnostics}");
        }

        await File.AppendAllTextAsync(Path.Combine(pgdata, "postgresql.conf"), $"""

            # Added by Shards (private HA formation)
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '{SocketDirectory}'
            unix_socket_permissions = 0700
            max_connections = 1000
            """, cancellationToken);
        await File.AppendAllTextAsync(Path.Combine(pgdata, "postgresql.auto.conf"), """
            shared_buffers = '128MB'
            effective_cache_size = '1GB'
            work_mem = '4MB'
            maintenance_work_mem = '64MB'
            wal_keep_size = '512MB'

            """, cancellationToken);
    }

    private async Task StartKeeperAsync(string pgdata, string log, int port, CancellationToken cancellationToken)
    {
        if (KeeperSessionOf(pgdata) is not null)
        {
            return;
        }

        if (!LoopbackPorts.IsFree(port))
        {
            throw new PostgresNotAvailableException(
                $"Port {port} of {Path.GetFileName(pgdata)} (127.0.0.1) is taken by another program; the formation's nodes are registered with their ports. " +
                $"Free it, or start over (data lost): rm -rf {RootDirectory}");
        }

        // A session of its own: the keeper outlives this command like pg_ctl's server does, and its PostgreSQL shares the
        // session, so the formation can be stopped (or a node killed) as a whole.
        var script = "setsid \"$0\" run --pgdata \"$1\" >> \"$2\" 2>&1 < /dev/null &";
        var started = await RunAsOwnerAsync("bash", ["-c", script, _pgAutoctl, pgdata, log], cancellationToken, withEnvironment: true);
        if (!started.Succeeded)
        {
            throw new PostgresNotAvailableException($"pg_autoctl run did not start for {pgdata}: {started.Diagnostics}");
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (KeeperSessionOf(pgdata) is null)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new PostgresNotAvailableException($"pg_autoctl run for {pgdata} exited at once. {LogTail(log)}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private async Task StopKeeperAsync(string pgdata, CancellationToken cancellationToken)
    {
        if (KeeperSessionOf(pgdata) is not { } session)
        {
            return;
        }

        await RunAutoctlAsync(["stop", "--pgdata", pgdata], cancellationToken);
        var deadline = DateTime.UtcNow + _options.CommandTimeout;
        while (SessionAlive(session))
        {
            if (DateTime.UtcNow > deadline)
            {
                PosixSignals.Send(-session, PosixSignals.SigKill);
                break;
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private async Task WaitForAsync(Func<IReadOnlyList<HaNodeState>, bool> done, string what, CancellationToken cancellationToken, bool required = true)
    {
        var deadline = DateTime.UtcNow + _options.CommandTimeout;
        IReadOnlyList<HaNodeState>? last = null;
        while (true)
        {
            last = await TryShowStateAsync(cancellationToken) ?? last;
            if (last is not null && done(last))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                var seen = last is null ? "the monitor did not answer" : string.Join(", ", last.Select(n => $"{n.Name} {n.ReportedState} (assigned {n.AssignedState})"));
                if (!required)
                {
                    _report($"The formation has no {what} after {_options.CommandTimeout.TotalSeconds:0} s ({seen}); going on. See the logs in {RootDirectory}.");
                    return;
                }

                throw new PostgresNotAvailableException($"The formation in {RootDirectory} has no {what} after {_options.CommandTimeout.TotalSeconds:0} s: {seen}. See the logs in {RootDirectory}.");
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    private async Task<IReadOnlyList<HaNodeState>?> TryShowStateAsync(CancellationToken cancellationToken)
    {
        if (KeeperSessionOf(MonitorData) is null)
        {
            return null;
        }

        var result = await RunAutoctlAsync(["show", "state", "--pgdata", MonitorData, "--formation", FormationName, "--json"], cancellationToken);
        if (!result.Succeeded)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<List<HaNodeState>>(result.StandardOutput);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task WaitForSocketAsync(int port, string database, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _options.CommandTimeout;
        while (true)
        {
            try
            {
                await ExecuteOverSocketAsync(port, database, ["SELECT 1"], cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or System.Net.Sockets.SocketException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    /// <summary>Runs statements as the superuser over the private Unix socket (trusted there, so before any password is set).</summary>
    private async Task ExecuteOverSocketAsync(int port, string database, IEnumerable<string> statements, CancellationToken cancellationToken)
    {
        var socket = new NpgsqlConnectionStringBuilder { Host = SocketDirectory, Port = port, Database = database, Username = SuperUser, Pooling = false, Timeout = 5 };
        await using var connection = new NpgsqlConnection(socket.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var statement in statements)
        {
            await using var command = new NpgsqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private async Task RunAutoctlOrThrowAsync(IReadOnlyList<string> arguments, string what, CancellationToken cancellationToken)
    {
        var result = await RunAutoctlAsync(arguments, cancellationToken);
        if (!result.Succeeded)
        {
            throw new PostgresNotAvailableException($"pg_autoctl could not {what}: {LastLine(result.Diagnostics)} (logs in {RootDirectory})");
        }
    }

    private Task<ProcessResult> RunAutoctlAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        RunAsOwnerAsync(_pgAutoctl, arguments, cancellationToken, withEnvironment: true);

    /// <summary>
    /// Runs <paramref name="program"/> as the server's user; with <paramref name="withEnvironment"/>, in the environment
    /// pg_autoctl needs: its configuration and state under the formation's folder (not the user's home), the password file,
    /// the private socket folder, and PostgreSQL's binaries first on PATH.
    /// </summary>
    private Task<ProcessResult> RunAsOwnerAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken, bool withEnvironment = false)
    {
        var timeout = _options.CommandTimeout + TimeSpan.FromSeconds(5);
        IReadOnlyList<string> command = withEnvironment
            ? ["env", .. Environment(), program, .. arguments]
            : [program, .. arguments];
        return System.Environment.IsPrivilegedProcess
            ? ProcessRunner.RunAsync("runuser", ["-u", SuperUser, "--", .. command], timeout, cancellationToken)
            : ProcessRunner.RunAsync(command[0], command.Skip(1), timeout, cancellationToken);
    }

    private IEnumerable<string> Environment()
    {
        yield return $"PATH={_binaries.BinDirectory}:/usr/local/bin:/usr/bin:/bin";
        yield return $"XDG_CONFIG_HOME={Path.Combine(RootDirectory, "config")}";
        yield return $"XDG_DATA_HOME={Path.Combine(RootDirectory, "state")}";
        yield return $"XDG_RUNTIME_DIR={Path.Combine(RootDirectory, "run")}";
        yield return $"PGPASSFILE={PgpassFile}";
        yield return $"PGHOST={SocketDirectory}";
    }

    private async Task PrepareRootDirectoryAsync(CancellationToken cancellationToken)
    {
        foreach (var dir in new[] { RootDirectory, SocketDirectory, Path.Combine(RootDirectory, "config"), Path.Combine(RootDirectory, "state"), Path.Combine(RootDirectory, "run") })
        {
            Directory.CreateDirectory(dir);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(SocketDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(Path.Combine(RootDirectory, "run"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (ReadPassword() is null)
        {
            ServerUserFiles.WriteOwnerOnly(PasswordFile, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) + "\n");
        }

        // libpq's format, any port and database: the formation's nodes and monitor share the one password.
        ServerUserFiles.WriteOwnerOnly(PgpassFile, $"127.0.0.1:*:*:*:{ReadPassword()}\n");
        if (!System.Environment.IsPrivilegedProcess)
        {
            return;
        }

        // The server's user owns the folder (and, unlike the single server's, the pgpass file: its replication and the
        // monitor's connections need the password). The password file and formation.json stay root's.
        await ServerUserFiles.ChownAsync(["-R", $"{SuperUser}:{SuperUser}", RootDirectory], cancellationToken);
        await ServerUserFiles.ChownAsync(["root:root", PasswordFile, .. new[] { FormationFile }.Where(File.Exists)], cancellationToken);
        await ServerUserFiles.RequireWritableByServerUserAsync(RootDirectory, "Shards__PostgresHa__Directory", "/var/tmp/shards-postgres-ha", cancellationToken);
    }

    /// <summary>The session (= process group) of the <c>pg_autoctl run</c> keeper of <paramref name="pgdata"/>, if one runs.</summary>
    private static int? KeeperSessionOf(string pgdata) => KeeperSessions(pgdata, exact: true).Cast<int?>().FirstOrDefault();

    /// <summary>Sessions of keepers whose data folder is <paramref name="pgdata"/> (<paramref name="exact"/>) or under it.</summary>
    private static IEnumerable<int> KeeperSessions(string pgdata, bool exact = false)
    {
        if (!Directory.Exists("/proc"))
        {
            yield break;
        }

        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            string[] argv;
            try
            {
                argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            if (argv.Length == 4 && Path.GetFileName(argv[0]) == "pg_autoctl" && argv[1] == "run" && argv[2] == "--pgdata" &&
                (exact ? argv[3] == pgdata : argv[3].StartsWith(pgdata.TrimEnd('/') + "/", StringComparison.Ordinal)))
            {
                yield return pid; // started by setsid: its own session and process group
            }
        }
    }

    private static bool SessionAlive(int session) => Directory.Exists($"/proc/{session}");

    private string? ReadPassword() =>
        File.Exists(PasswordFile) && File.ReadAllText(PasswordFile).Trim() is { Length: > 0 } password ? password : null;

    private FormationLayout? ReadFormation()
    {
        try
        {
            return File.Exists(FormationFile) ? JsonSerializer.Deserialize<FormationLayout>(File.ReadAllText(FormationFile)) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string LogTail(string log) =>
        File.Exists(log) ? $"Last lines of {log}:{System.Environment.NewLine}{string.Join(System.Environment.NewLine, File.ReadLines(log).TakeLast(10))}" : string.Empty;

    private static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.Contains("ERROR") || l.Contains("FATAL"))
        ?? text.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "(no output)";

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan t) => Math.Max(1, (int)t.TotalSeconds).ToString(CultureInfo.InvariantCulture);

    private sealed record FormationLayout(int MonitorPort, IReadOnlyList<FormationNode> Nodes);

    private sealed record FormationNode(string Name, int Port);

    /// <summary>One row of <c>pg_autoctl show state --json</c>.</summary>
    private sealed record HaNodeState(
        [property: JsonPropertyName("nodename")] string Name,
        [property: JsonPropertyName("nodeport")] int Port,
        [property: JsonPropertyName("current_group_state")] string ReportedState,
        [property: JsonPropertyName("assigned_group_state")] string AssignedState,
        [property: JsonPropertyName("health")] int Health,
        [property: JsonPropertyName("reported_lsn")] string? Lsn,
        [property: JsonPropertyName("reported_tli")] int Timeline)
    {
        public bool IsWritablePrimary => ReportedState is "primary" or "wait_primary" or "single" && AssignedState == ReportedState;

        public bool IsSecondary => ReportedState == "secondary" && AssignedState == "secondary";
    }
}

public enum PostgresHaRole
{
    Primary,
    Standby,
}

/// <summary>One node of the formation, as <c>shards db status</c> shows it.</summary>
public sealed record PostgresHaNodeStatus(
    string Name, int Port, bool KeeperRunning, string? ReportedState, string? AssignedState, bool Healthy, string? Lsn, int? Timeline)
{
    /// <summary>Takes writes: primary with its standby in sync, wait_primary (alone, or waiting for the standby), or single.</summary>
    public bool IsPrimary => ReportedState is "primary" or "wait_primary" or "single";

    public bool IsSecondary => ReportedState == "secondary";
}

/// <summary>What <c>shards db status</c> shows of the formation. <see cref="ConnectionString"/> holds the password.</summary>
public sealed record PostgresHaStatus(
    bool Initialised, bool Running, string Directory, int? MonitorPort, [property: JsonIgnore] string? ConnectionString,
    IReadOnlyList<PostgresHaNodeStatus> Nodes, string PasswordFile)
{
    public bool MonitorRunning { get; init; }

    public string? MaskedConnectionString => ConnectionString is null ? null : PrivatePostgresServer.Masked(ConnectionString);
}
