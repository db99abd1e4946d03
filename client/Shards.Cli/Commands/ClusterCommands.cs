using System.CommandLine;
using System.Runtime.InteropServices;
using Shards.Cli.Core;
using Shards.LocalCluster;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;

namespace Shards.Cli.Commands;

/// <summary><c>shards cluster up</c>: a local cluster master that starts and supervises silo processes.</summary>
internal static class ClusterCommands
{
    public static Command Create(GlobalOptions global)
    {
        var cluster = new Command("cluster", "Run a local cluster of silo processes");
        var silos = new Option<int>("--silos", "-n")
        {
            Description = "Number of silo processes (default: one per core, at least 2)",
            DefaultValueFactory = _ => Math.Max(2, Environment.ProcessorCount),
        };
        silos.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<int>();
            if (value is < 1 or > 32)
            {
                result.AddError("--silos must be between 1 and 32.");
            }
        });
        var shards = ShardsOption();
        var noRestart = new Option<bool>("--no-restart") { Description = "Do not restart silos that crash" };
        var dashboard = new Option<bool>("--dashboard")
        {
            Description = "Serve the Orleans Dashboard on every silo's HTTP port at /dashboard/ (about 80 MB more per silo)",
        };
        var probesOnly = new Option<bool>("--probes-only")
        {
            Description = "No launcher help on a crash: no restart, no immediate death declaration (to measure Orleans' probes alone)",
        };

        var tls = new Option<bool>("--tls")
        {
            Description = "TLS between silos and clients with a self-signed cluster certificate made in .shards/tls (or give your own with Shards__Tls__*)",
        };

        var up = new Command("up", "Start N silos (and the private PostgreSQL unless one is configured), supervise them until Ctrl+C");
        up.Options.Add(silos);
        up.Options.Add(shards);
        up.Options.Add(noRestart);
        up.Options.Add(probesOnly);
        up.Options.Add(dashboard);
        up.Options.Add(tls);
        global.SetAction(up, async (parseResult, context, ct) =>
        {
            using var stop = new StopSignals(ct);
            ct = stop.Token;
            var connectionString = await context.ResolveConnectionStringAsync(startPrivateServer: true, ct);
            var privateServer = context.ConfiguredConnectionString is null ? PrivatePostgresServer.Create(context.PrivatePostgres) : null;
            var shardDatabases = await ShardDatabases.CreateAsync(context, privateServer, parseResult.GetValue(shards), ct);
            await ShardDatabases.CheckMapAsync(context, connectionString, context.Cluster.ServiceId, shardDatabases, ct, reachUnconfigured: privateServer is not null);
            var options = new LauncherOptions
            {
                SiloCount = parseResult.GetValue(silos),
                ConnectionString = connectionString,
                ClusterId = context.Cluster.ClusterId,
                ServiceId = context.Cluster.ServiceId,
                RestartCrashedSilos = !parseResult.GetValue(noRestart) && !parseResult.GetValue(probesOnly),
                DeclareCrashedSilosDead = !parseResult.GetValue(probesOnly),
                KillFrozenSilosAfter = parseResult.GetValue(probesOnly) ? null : TimeSpan.FromSeconds(1),
                ApiKey = LocalApiKey.LoadOrCreate(LocalApiKey.DefaultPath),
                Tls = parseResult.GetValue(tls) ? LocalTlsCertificate.LoadOrCreate() : context.Tls,
            };
            if (!parseResult.GetValue(tls))
            {
                LocalTlsCertificate.MarkDisabled();
            }

            foreach (var (name, value) in ShardDatabases.Environment(shardDatabases))
            {
                options.SiloEnvironment[name] = value;
            }

            if (privateServer is not null)
            {
                // Every database on the private server takes the main connection's credentials: silos reach shards that
                // 'shards reshard add' adds while they run.
                options.SiloEnvironment[ShardDatabases.ReachUnconfiguredShardsVariable] = "true";
            }

            if (parseResult.GetValue(dashboard))
            {
                options.SiloSettings["Shards:Dashboard:Enabled"] = "true";
            }

            await using var launcher = new ClusterLauncher(options, message => CliOutput.Status($"[{DateTime.Now:HH:mm:ss}] {message}"));
            CliOutput.Status($"Starting {options.SiloCount} silo(s) of cluster '{options.ClusterId}'" +
                (options.Tls is { Enabled: true } ? $" with TLS (certificate {options.Tls.CertificatePath ?? options.Tls.StoreSubject})" : string.Empty) + $" (membership in {PostgresAvailability.Describe(connectionString)}" +
                (shardDatabases.Count > 0 ? $"; grain state in {string.Join(", ", shardDatabases)}" : string.Empty) + ") ...");
            var started = DateTime.UtcNow;
            await launcher.StartAsync(ct);
            context.Output.Line($"{options.SiloCount} silo(s) active after {(DateTime.UtcNow - started).TotalSeconds:0.0} s:");
            context.Output.Table(
                ["SILO", "PID", "SILO PORT", "GATEWAY", "HTTP API", "LOG"],
                launcher.Silos.Select(s => (IReadOnlyList<string>)[s.Name, s.Pid?.ToString() ?? "-", s.SiloPort.ToString(), s.GatewayPort.ToString(), s.HttpUrl, s.LogFile]));
            context.Output.Document(new
            {
                silos = launcher.Silos.Select(s => new { s.Name, s.Pid, s.SiloPort, s.GatewayPort, s.HttpPort, s.HttpUrl, s.LogFile }),
                apiKeyFile = Path.GetFullPath(LocalApiKey.DefaultPath),
            });
            context.Output.Line();
            context.Output.Line($"HTTP API on every silo, API key in {LocalApiKey.DefaultPath} (header X-Api-Key). Try:");
            context.Output.Line($"  curl -H \"X-Api-Key: $(cat {LocalApiKey.DefaultPath})\" {launcher.Silos[0].HttpUrl}/api/products/sku-00001");
            context.Output.Line($"  curl {launcher.Silos[0].HttpUrl}/health/ready      OpenAPI: {launcher.Silos[0].HttpUrl}/openapi/v1.json");
            context.Output.Line("  nginx over all silos' HTTP ports: scripts/nginx-for-cluster.sh (writes a config listening on 127.0.0.1:8088)");
            context.Output.Line($"  curl -u \":$(cat {LocalApiKey.DefaultPath})\" {launcher.Silos[0].HttpUrl}/metrics      (Prometheus metrics, see docs/operations.md)");
            if (parseResult.GetValue(dashboard))
            {
                context.Output.Line($"  Orleans Dashboard: {launcher.Silos[0].HttpUrl}/dashboard/ (any user name, password: the API key in {LocalApiKey.DefaultPath})");
            }

            context.Output.Line();
            context.Output.Line("Supervising: a crashed silo is restarted. Try 'shards members', 'shards kill silo-2' or 'shards cluster restart'");
            context.Output.Line("(SIGUSR2 to this process) in another terminal. Ctrl+C stops all.");

            // SIGUSR2: rolling restart, one silo at a time (as a cluster master replaces its workers).
            using var rolling = PosixSignalRegistration.Create((PosixSignal)PosixSignals.SigUsr2, signal =>
            {
                signal.Cancel = true;
                CliOutput.Status($"[{DateTime.Now:HH:mm:ss}] SIGUSR2: rolling restart of {launcher.Silos.Count} silo(s)");
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await launcher.RollingRestartAsync(stop.Token);
                        CliOutput.Status($"[{DateTime.Now:HH:mm:ss}] rolling restart done");
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or TimeoutException)
                    {
                        CliOutput.Status($"[{DateTime.Now:HH:mm:ss}] rolling restart stopped: {ex.Message}");
                    }
                });
            });

            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C / SIGTERM: fall through to the graceful stop.
            }

            CliOutput.Status("Stopping all silos gracefully ...");
            await launcher.StopAsync();
            CliOutput.Status("All silos stopped.");
            return ExitCodes.Ok;
        });
        cluster.Subcommands.Add(up);
        cluster.Subcommands.Add(Restart(global));
        return cluster;
    }

    /// <summary><c>--shards N</c>: how many databases hold grain state (cluster up, demo).</summary>
    internal static Option<int> ShardsOption()
    {
        var shards = new Option<int>("--shards")
        {
            Description = "Shard databases for grain state, created on the private PostgreSQL as shards_s0.. (default 1: the main database)",
            DefaultValueFactory = _ => 1,
        };
        shards.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > ShardDatabases.MaxShards)
            {
                result.AddError($"--shards must be between 1 and {ShardDatabases.MaxShards}.");
            }
        });
        return shards;
    }

    /// <summary><c>shards cluster restart</c>: SIGUSR2 to the launcher, then watch the silos being replaced.</summary>
    private static Command Restart(GlobalOptions global)
    {
        var wait = new Option<int>("--timeout") { Description = "Seconds to wait for every silo to be replaced", DefaultValueFactory = _ => 300 };
        var restart = new Command("restart", "Rolling restart of a running 'shards cluster up': replace silos one at a time, with no failed request") { wait };
        global.SetAction(restart, async (parseResult, context, ct) =>
        {
            var launchers = LauncherProcesses.Find(context.Cluster.ClusterId);
            if (launchers.Count != 1)
            {
                throw new CliException(
                    launchers.Count == 0
                        ? $"No 'shards cluster up' of cluster '{context.Cluster.ClusterId}' runs on this machine."
                        : $"Several launchers of cluster '{context.Cluster.ClusterId}' run (pids {string.Join(", ", launchers.Select(l => l.Pid))}); signal one with: kill -USR2 PID",
                    ExitCodes.NotFound);
            }

            var connectionString = await context.ResolveConnectionStringAsync(startPrivateServer: false, ct);
            var membership = new MembershipTableReader(context.DataSources.For(connectionString));
            var before = (await membership.ReadAsync(context.Cluster.ClusterId, ct))
                .Where(r => r.Status == SiloStatusCode.Active).Select(r => r.SiloAddress).ToHashSet();
            if (!PosixSignals.Send(launchers[0].Pid, PosixSignals.SigUsr2))
            {
                throw new CliException($"Could not signal the launcher (pid {launchers[0].Pid}).", ExitCodes.Unavailable);
            }

            var watch = System.Diagnostics.Stopwatch.StartNew();
            CliOutput.Status($"Sent SIGUSR2 to the launcher (pid {launchers[0].Pid}); replacing {before.Count} silo(s) one at a time ...");
            var deadline = TimeSpan.FromSeconds(parseResult.GetValue(wait));
            while (true)
            {
                var active = (await membership.ReadAsync(context.Cluster.ClusterId, ct))
                    .Where(r => r.Status == SiloStatusCode.Active).ToList();
                var replaced = before.Count(address => active.All(r => r.SiloAddress != address));
                if (replaced == before.Count && active.Count >= before.Count)
                {
                    context.Output.Line($"All {before.Count} silo(s) replaced in {watch.Elapsed.TotalSeconds:0.0} s.");
                    context.Output.Document(new { replaced, seconds = watch.Elapsed.TotalSeconds });
                    return ExitCodes.Ok;
                }

                if (watch.Elapsed > deadline)
                {
                    throw new CliException($"Only {replaced} of {before.Count} silo(s) were replaced within {deadline.TotalSeconds:0} s (see the launcher's output).", ExitCodes.Unavailable);
                }

                await Task.Delay(500, ct);
            }
        });
        return restart;
    }
}
