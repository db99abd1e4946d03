using System.CommandLine;
using Shards.Cli.Core;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;

namespace Shards.Cli.Commands;

/// <summary><c>shards db init|start|stop|status</c>: the private PostgreSQL and Shards' schema.</summary>
internal static class DbCommands
{
    public static Command Create(GlobalOptions global)
    {
        var db = new Command("db", "The PostgreSQL that holds membership, grain state and reminders");

        var init = new Command("init", "Apply Shards' schema (idempotent) to the configured or private PostgreSQL, and to configured shard databases");
        global.SetAction(init, async (_, context, ct) =>
        {
            var connectionString = await context.ResolveConnectionStringAsync(startPrivateServer: false, ct);
            var databases = new[] { connectionString }.Concat(context.StorageOptions.Shards.Select(s => s.ConnectionString)).DistinctBy(PostgresAvailability.Describe);
            var reports = new List<object>();
            foreach (var database in databases)
            {
                var report = await new SchemaMigrator(context.DataSources.For(database)).ApplyAsync(ct);
                context.Output.Line($"Schema at {PostgresAvailability.Describe(database)}: " +
                    $"{report.Applied.Count} migration(s) applied ({string.Join(", ", report.Applied)}), {report.AlreadyCurrent.Count} already current.");
                reports.Add(new { database = PostgresAvailability.Describe(database), report.Applied, report.AlreadyCurrent });
            }

            context.Output.Document(reports.Count == 1 ? reports[0] : new { databases = reports });
            return ExitCodes.Ok;
        });

        var ha = new Option<bool>("--ha")
        {
            Description = "A pg_auto_failover formation instead of one server: a monitor, a primary and a synchronous standby, all on 127.0.0.1 (docs/postgres-ha.md)",
        };
        var start = new Command("start", "Start the private PostgreSQL (127.0.0.1 only; initialised on first use) and apply the schema") { ha };
        global.SetAction(start, async (parseResult, context, ct) =>
        {
            if (context.ConfiguredConnectionString is not null)
            {
                throw new CliException("ConnectionStrings__Shards (or --connection) is set: that server is not managed by Shards. Unset it to use the private one.");
            }

            context.HighAvailability = parseResult.GetValue(ha);
            if (context.HighAvailability)
            {
                return await StartFormationAsync(context, ct);
            }

            if (context.HaFormationIfCreated() is { IsRunning: true } formation)
            {
                throw new CliException(
                    $"The private formation in {formation.RootDirectory} runs: use it ('shards db start --ha'), or stop it first ('shards db stop').",
                    ExitCodes.AlreadyRunning);
            }

            var server = PrivatePostgresServer.Create(context.PrivatePostgres, CliOutput.Status);
            var connectionString = await server.StartAsync(ct);
            var report = await new SchemaMigrator(context.DataSources.For(connectionString)).ApplyAsync(ct);
            var status = await server.GetStatusAsync(ct);
            context.Output.Line($"PostgreSQL runs on 127.0.0.1:{status.Port} (data in {server.DataDirectory}, log {server.LogFile}).");
            context.Output.Line($"Schema: {report.Applied.Count} migration(s) applied, {report.AlreadyCurrent.Count} already current.");
            // The password stays in its file (mode 600): the line reads it there instead of showing it.
            var withoutPassword = new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Password = null }.ConnectionString;
            context.Output.Line($"Other programs can use it with: export ConnectionStrings__Shards=\"{withoutPassword};Password=$(cat '{status.PasswordFile}')\"");
            context.Output.Line($"psql: PGPASSFILE={status.PgpassFile} psql -h 127.0.0.1 -p {status.Port} -U postgres {context.PrivatePostgres.Database}");
            context.Output.Document(new { status.Port, status.Directory, connectionString = status.MaskedConnectionString, status.PasswordFile, status.PgpassFile });
            return ExitCodes.Ok;
        });

        var force = new Option<bool>("--force") { Description = "Stop it even while silos use it (a 'shards cluster up' of this folder, or silos live in its membership table)" };
        var stop = new Command("stop", "Stop the private PostgreSQL, or all of the --ha formation (data is kept); refused while a cluster uses it, unless --force") { force };
        global.SetAction(stop, async (parseResult, context, ct) =>
        {
            var stopped = new List<string>();
            var formation = context.HaFormationIfCreated();
            var server = PrivatePostgresServer.Create(context.PrivatePostgres);
            var targets = new List<IPrivatePostgres>();
            if (formation is { IsRunning: true })
            {
                targets.Add(formation);
            }

            if ((await server.GetStatusAsync(ct)).Running || targets.Count == 0)
            {
                targets.Add(server);
            }

            foreach (var target in targets)
            {
                if (!parseResult.GetValue(force))
                {
                    await RefuseWhileInUseAsync(context, target, ct);
                }
            }

            foreach (var target in targets)
            {
                await target.StopAsync(ct);
                context.Output.Line(target.IsHighlyAvailable
                    ? $"The PostgreSQL formation in {target.RootDirectory} is stopped (standby, primary, then monitor)."
                    : $"PostgreSQL in {target.RootDirectory} is stopped.");
                stopped.Add(target.RootDirectory);
            }

            context.Output.Document(new { stopped = true, RootDirectory = stopped[0], directories = stopped });
            return ExitCodes.Ok;
        });

        var status = new Command("status", "Show whether the PostgreSQL runs, its schema version and the cluster's members");
        global.SetAction(status, async (_, context, ct) =>
        {
            string? connectionString = context.ConfiguredConnectionString;
            PrivatePostgresStatus? privateStatus = null;
            PostgresHaStatus? formationStatus = null;
            if (connectionString is null && context.HaFormationIfCreated() is { } formation)
            {
                formationStatus = await formation.GetStatusAsync(ct);
                ShowFormation(context, formationStatus);
                connectionString = formationStatus.ConnectionString;
            }

            if (connectionString is null)
            {
                privateStatus = await PrivatePostgresServer.Create(context.PrivatePostgres).GetStatusAsync(ct);
                connectionString = privateStatus.ConnectionString;
                context.Output.Line(privateStatus switch
                {
                    { Running: true } => $"Private PostgreSQL: running on 127.0.0.1:{privateStatus.Port} ({privateStatus.Directory})",
                    { Initialised: true } => $"Private PostgreSQL: stopped ({privateStatus.Directory}); start it with 'shards db start'",
                    _ => $"Private PostgreSQL: not created yet ({privateStatus.Directory}); create it with 'shards db start'",
                });
                if (privateStatus is { Running: true, MaskedConnectionString: { } masked })
                {
                    context.Output.Line($"Connection string: {masked} (password in {privateStatus.PasswordFile})");
                    context.Output.Line($"psql: PGPASSFILE={privateStatus.PgpassFile} psql -h 127.0.0.1 -p {privateStatus.Port} -U postgres {context.PrivatePostgres.Database}");
                }
            }

            if (connectionString is null)
            {
                context.Output.Document(new { running = false, privateStatus, formation = formationStatus });
                return ExitCodes.Unavailable;
            }

            var database = context.DataSources.For(connectionString);
            var schema = await new SchemaStatus(database).ReadAsync(ct);
            var members = await new MembershipTableReader(database).ReadAsync(context.Cluster.ClusterId, ct);
            var active = members.Count(m => m.Status == SiloStatusCode.Active);
            context.Output.Line($"Database {PostgresAvailability.Describe(connectionString)}: schema {(schema.Count == 0 ? "not applied (run 'shards db init')" : string.Join(", ", schema))}");
            context.Output.Line($"Cluster '{context.Cluster.ClusterId}': {active} active silo(s), {members.Count} row(s) in the membership table");
            context.Output.Document(new
            {
                running = true, database = PostgresAvailability.Describe(connectionString), schema, activeSilos = active, membershipRows = members.Count,
                privateServer = privateStatus,
                formation = formationStatus,
            });
            return ExitCodes.Ok;
        });

        db.Subcommands.Add(init);
        db.Subcommands.Add(start);
        db.Subcommands.Add(stop);
        db.Subcommands.Add(status);
        return db;
    }

    /// <summary><c>db start --ha</c>: the formation up (created on first use), the schema applied through the primary.</summary>
    private static async Task<int> StartFormationAsync(CliContext context, CancellationToken ct)
    {
        if ((await PrivatePostgresServer.Create(context.PrivatePostgres).GetStatusAsync(ct)).Running)
        {
            throw new CliException(
                $"The single private PostgreSQL in {System.IO.Path.GetFullPath(context.PrivatePostgres.Directory)} runs: stop it first ('shards db stop') to start the formation.",
                ExitCodes.AlreadyRunning);
        }

        var formation = PostgresHaFormation.Create(context.PostgresHa, CliOutput.Status);
        var started = DateTime.UtcNow;
        var connectionString = await formation.StartAsync(ct);
        var report = await new SchemaMigrator(context.DataSources.For(connectionString)).ApplyAsync(ct);
        var status = await formation.GetStatusAsync(ct);
        context.Output.Line($"PostgreSQL formation runs in {formation.RootDirectory} ({(DateTime.UtcNow - started).TotalSeconds:0.0} s): monitor on 127.0.0.1:{status.MonitorPort}, " +
            string.Join(", ", status.Nodes.Select(n => $"{n.Name} on 127.0.0.1:{n.Port} ({n.ReportedState ?? "unknown"})")) + ".");
        context.Output.Line($"Schema: {report.Applied.Count} migration(s) applied, {report.AlreadyCurrent.Count} already current.");
        var withoutPassword = new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Password = null }.ConnectionString;
        context.Output.Line($"Other programs can use it with: export ConnectionStrings__Shards=\"{withoutPassword};Password=$(cat '{status.PasswordFile}')\"");
        context.Output.Line("Every connection asks for the read-write node, so it finds the new primary after a failover. 'shards db status' shows the nodes.");
        context.Output.Document(new { highAvailability = true, status.Directory, status.MonitorPort, nodes = status.Nodes, connectionString = status.MaskedConnectionString, status.PasswordFile });
        return ExitCodes.Ok;
    }

    /// <summary>The formation's nodes for <c>db status</c>.</summary>
    private static void ShowFormation(CliContext context, PostgresHaStatus status)
    {
        context.Output.Line(status.Running
            ? $"PostgreSQL formation (pg_auto_failover, {status.Directory}): monitor on 127.0.0.1:{status.MonitorPort} {(status.MonitorRunning ? "running" : "STOPPED (no failover can happen)")}"
            : $"PostgreSQL formation (pg_auto_failover, {status.Directory}): stopped; start it with 'shards db start --ha'");
        if (!status.Running)
        {
            return;
        }

        context.Output.Table(
            ["NODE", "ADDRESS", "KEEPER", "STATE", "ASSIGNED", "HEALTH", "TIMELINE", "LSN"],
            status.Nodes.Select(n => (IReadOnlyList<string>)[
                n.Name, $"127.0.0.1:{n.Port}", n.KeeperRunning ? "running" : "stopped", n.ReportedState ?? "-", n.AssignedState ?? "-",
                n.ReportedState is null ? "-" : n.Healthy ? "up" : "down", n.Timeline?.ToString() ?? "-", n.Lsn ?? "-"]).ToList());
        if (status.MaskedConnectionString is { } masked)
        {
            context.Output.Line($"Connection string: {masked} (password in {status.PasswordFile})");
        }
    }

    /// <summary>How recent a silo's I-am-alive must be for <c>db stop</c> to count it as using the database.</summary>
    private static readonly TimeSpan s_liveSilo = TimeSpan.FromMinutes(1);

    /// <summary>
    /// <c>db stop</c> without <c>--force</c>: refused (exit 7, nothing stopped) while a <c>shards cluster up</c> of this
    /// folder runs on the private server, or silos of other clusters are active in its membership table with a recent
    /// I-am-alive: without their database every command and HTTP request of theirs fails.
    /// </summary>
    private static async Task RefuseWhileInUseAsync(CliContext context, IPrivatePostgres server, CancellationToken ct)
    {
        var clusters = LocalClusters.On(server);
        var users = clusters.Select(LocalClusters.Describe).ToList();
        if (await server.RunningConnectionStringAsync(ct) is { } connectionString)
        {
            try
            {
                var now = DateTimeOffset.UtcNow;
                var others = (await new MembershipTableReader(context.DataSources.For(connectionString)).ReadNotDeadAsync(ct))
                    .Where(r => r.Row.Status == SiloStatusCode.Active && now - r.Row.IAmAliveTime < s_liveSilo)
                    .Where(r => clusters.All(c => c.ClusterId != r.ClusterId))
                    .GroupBy(r => r.ClusterId, StringComparer.Ordinal);
                users.AddRange(others.Select(g => $"cluster '{g.Key}' ({LocalClusters.Silos(g.Count())} active in its membership table: {string.Join(", ", g.Select(r => r.Row.SiloName))})"));
            }
            catch (Npgsql.NpgsqlException)
            {
                // No schema or not reachable: the state files above are all there is to go by.
            }
        }

        if (users.Count > 0)
        {
            throw new CliException(
                $"Not stopping the private PostgreSQL{(server.IsHighlyAvailable ? " formation" : string.Empty)} in {server.RootDirectory}: {string.Join("; ", users)} " +
                (users.Count == 1 ? "uses it" : "use it") + ". Without it every command and HTTP request of those silos fails. " +
                "Stop the cluster first ('shards cluster down'), or stop PostgreSQL anyway with 'shards db stop --force'.",
                ExitCodes.AlreadyRunning,
                new { clusters = clusters.Select(c => new { c.ClusterId, c.LauncherPid, silos = c.Silos.Select(s => new { s.Name, s.Pid }) }) });
        }
    }
}
