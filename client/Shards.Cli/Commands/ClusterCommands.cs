using System.CommandLine;
using System.Runtime.InteropServices;
using Shards.Cli.Core;
using Shards.LocalCluster;
using Shards.LocalCluster.Hosts;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;

namespace Shards.Cli.Commands;

/// <summary>
/// <c>shards cluster up</c>: a local cluster master that starts and supervises silo processes, and keeps its state in
/// <c>.shards/cluster.json</c>; <c>cluster down</c> and <c>cluster restart</c> find it there from another terminal.
/// </summary>
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

        var ha = new Option<bool>("--ha")
        {
            Description = "Start the private PostgreSQL as a pg_auto_failover formation (monitor, primary, synchronous standby) that fails over by itself; see docs/postgres-ha.md",
        };
        var hosts = new Option<int>("--hosts")
        {
            Description = "Simulated hosts: each silo (one per host) and the private PostgreSQL in a network namespace of its own, with its own address " +
                "on a private bridge (needs root; lets 'shards load' cut, isolate and degrade the network between them, see docs/partitions.md)",
        };
        hosts.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 2 or > HostNetwork.MaxHosts)
            {
                result.AddError($"--hosts must be between 2 and {HostNetwork.MaxHosts}.");
            }
        });

        var up = new Command("up", "Start N silos (and the private PostgreSQL unless one is configured), supervise them until Ctrl+C or 'shards cluster down'");
        up.Options.Add(silos);
        up.Options.Add(shards);
        up.Options.Add(noRestart);
        up.Options.Add(probesOnly);
        up.Options.Add(dashboard);
        up.Options.Add(tls);
        up.Options.Add(ha);
        up.Options.Add(hosts);
        global.SetAction(up, async (parseResult, context, ct) =>
        {
            // Before anything starts: simulated hosts can be had, and one launcher per cluster and folder.
            if (parseResult.GetValue(ha) && parseResult.GetResult(hosts) is { Implicit: false })
            {
                throw new CliException("--ha and --hosts do not go together: the formation runs on 127.0.0.1, --hosts puts the single private PostgreSQL on a simulated host of its own.");
            }

            var network = parseResult.GetResult(hosts) is { Implicit: false } ? ClusterHosts.Require(context) : null;
            if (network is not null && parseResult.GetResult(silos) is { Implicit: false } && parseResult.GetValue(silos) != parseResult.GetValue(hosts))
            {
                throw new CliException($"--hosts {parseResult.GetValue(hosts)} runs one silo per host: leave --silos out (or give the same number).");
            }

            var stateFile = ClusterStateFile.For(context.Cluster.ClusterId);
            using var claim = ClaimOrRefuse(stateFile);
            try
            {
                stateFile.Write(ClusterState.StartingHere(context.Cluster.ClusterId, context.Cluster.ServiceId));
                await ClusterHosts.RemoveLeftoversAsync(context, ct);
                if (network is not null)
                {
                    await network.CreateAsync(parseResult.GetValue(hosts), ct);
                    CliOutput.Status($"Simulated {parseResult.GetValue(hosts)} silo host(s) and a PostgreSQL host on bridge {network.Bridge} ({network.Cidr}; this machine is {network.RootAddress} there).");
                }

                return await UpAsync(parseResult, context, stateFile, network, ct);
            }
            finally
            {
                if (network is not null)
                {
                    var removed = await ClusterHosts.TearDownAsync(context, network, CancellationToken.None); // also after Ctrl+C
                    CliOutput.Status($"Simulated hosts removed ({removed.Count} item(s): {string.Join(", ", removed)}).");
                }

                stateFile.DeleteIfOwnedByThisProcess();
            }
        });

        async Task<int> UpAsync(ParseResult parseResult, CliContext context, ClusterStateFile stateFile, HostNetwork? network, CancellationToken ct)
        {
            using var stop = new StopSignals(ct);
            ct = stop.Token;
            var apiKey = LocalApiKey.LoadOrCreate(LocalApiKey.DefaultPath); // refused when others may read it: before anything starts
            context.HighAvailability = parseResult.GetValue(ha);
            var connectionString = await context.ResolveConnectionStringAsync(startPrivateServer: true, network is null ? null : ClusterHosts.PostgresOn(network), ct);
            var privateServer = context.ConfiguredConnectionString is null ? await context.PrivateDatabaseAsync(ct) : null;
            var shardDatabases = await ShardDatabases.CreateAsync(context, privateServer, parseResult.GetValue(shards), ct);
            await ShardDatabases.CheckMapAsync(context, connectionString, context.Cluster.ServiceId, shardDatabases, ct, reachUnconfigured: privateServer is not null);
            var options = new LauncherOptions
            {
                SiloCount = network is null ? parseResult.GetValue(silos) : parseResult.GetValue(hosts),
                ConnectionString = connectionString,
                Hosts = network,
                KillSilosDeclaredDead = network is not null && !parseResult.GetValue(probesOnly),
                ClusterId = context.Cluster.ClusterId,
                ServiceId = context.Cluster.ServiceId,
                RestartCrashedSilos = !parseResult.GetValue(noRestart) && !parseResult.GetValue(probesOnly),
                DeclareCrashedSilosDead = !parseResult.GetValue(probesOnly),
                KillFrozenSilosAfter = parseResult.GetValue(probesOnly) ? null : TimeSpan.FromSeconds(1),
                ApiKey = apiKey,
                Tls = parseResult.GetValue(tls) ? LocalTlsCertificate.LoadOrCreate() : context.Tls,
                StateFile = stateFile.FullPath,
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
            if (network is null)
            {
                context.Output.Table(
                    ["SILO", "PID", "SILO PORT", "GATEWAY", "HTTP API", "LOG"],
                    launcher.Silos.Select(s => (IReadOnlyList<string>)[s.Name, s.Pid?.ToString() ?? "-", s.SiloPort.ToString(), s.GatewayPort.ToString(), s.HttpUrl, s.LogFile]));
            }
            else
            {
                context.Output.Table(
                    ["SILO", "PID", "HOST", "NAMESPACE", "SILO PORT", "GATEWAY", "HTTP API", "LOG"],
                    launcher.Silos.Select(s => (IReadOnlyList<string>)[s.Name, s.Pid?.ToString() ?? "-", s.Host!.Name, s.Host.Namespace, $"{s.AdvertisedAddress}:{s.SiloPort}", s.GatewayPort.ToString(), s.HttpUrl, s.LogFile]));
                context.Output.Line($"PostgreSQL: {network.Postgres.Address} (namespace {network.Postgres.Namespace}).");
            }

            context.Output.Document(new
            {
                silos = launcher.Silos.Select(s => new { s.Name, s.Pid, s.AdvertisedAddress, Namespace = s.Host?.Namespace, s.SiloPort, s.GatewayPort, s.HttpPort, s.HttpUrl, s.LogFile }),
                apiKeyFile = Path.GetFullPath(LocalApiKey.DefaultPath),
                stateFile = stateFile.FullPath,
                launcherPid = Environment.ProcessId,
            });
            var url = launcher.Silos[0].HttpUrl;
            var key = LocalApiKey.DefaultPath;
            context.Output.Line();
            context.Output.Line("HTTP API on every silo. Without a key (health probes only):");
            context.Output.Line($"  curl {url}/health/live      curl {url}/health/ready");
            context.Output.Line($"Everything else needs the API key in {key}: pass it in the header X-Api-Key (/metrics and the dashboard also take it as the basic-auth password):");
            context.Output.Line($"  curl -H \"X-Api-Key: $(cat {key})\" {url}/api/products/sku-00001");
            context.Output.Line($"  curl -H \"X-Api-Key: $(cat {key})\" {url}/openapi/v1.json      (the OpenAPI document)");
            context.Output.Line($"  curl -u \":$(cat {key})\" {url}/metrics      (Prometheus metrics, see docs/operations.md)");
            if (parseResult.GetValue(dashboard))
            {
                context.Output.Line($"  Orleans Dashboard: {url}/dashboard/ (any user name, password: the API key in {key})");
            }

            context.Output.Line("nginx over all silos' HTTP ports: scripts/nginx-for-cluster.sh (writes a config listening on 127.0.0.1:8088)");

            context.Output.Line();
            context.Output.Line($"Supervising (pid {Environment.ProcessId}, state in {stateFile.Path}): a crashed silo is restarted. In another terminal try");
            context.Output.Line("'shards members', 'shards kill silo-2', 'shards cluster restart' (SIGUSR2 to this process) or 'shards cluster down'.");
            context.Output.Line("Ctrl+C or 'shards cluster down' stops all.");

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
        }

        cluster.Subcommands.Add(up);
        cluster.Subcommands.Add(Down(global));
        cluster.Subcommands.Add(Restart(global));
        return cluster;
    }

    /// <summary>
    /// The launcher lock of the cluster, or a refusal that names the launcher that runs and how to stop it. A stale
    /// state file (its launcher gone) does not refuse: the new launcher replaces it.
    /// </summary>
    private static IDisposable ClaimOrRefuse(ClusterStateFile stateFile)
    {
        var before = stateFile.Read();
        if (before is { IsRunning: true, State: { } running })
        {
            throw AlreadyRunning(stateFile, running);
        }

        var claim = stateFile.TryClaim();
        if (claim is null)
        {
            throw stateFile.Read() is { IsRunning: true, State: { } now }
                ? AlreadyRunning(stateFile, now)
                : new CliException(
                    $"Another 'shards cluster up' of cluster '{stateFile.ClusterId}' is starting or stopping in this folder (it holds {stateFile.Path}.lock). " +
                    "Wait for it, or stop it with 'shards cluster down'.", ExitCodes.AlreadyRunning);
        }

        if (before.IsStale)
        {
            CliOutput.Status($"Replacing a stale {before.Path} ({before.StaleBecause}).");
        }

        return claim;
    }

    private static CliException AlreadyRunning(ClusterStateFile stateFile, ClusterState running)
    {
        var active = running.Silos.Count(s => s.Status == LocalSiloStatus.Active);
        return new CliException(
            $"Cluster '{running.ClusterId}' already runs from this folder: its launcher 'shards cluster up' is pid {running.LauncherPid} " +
            $"(started {running.StartedAt.ToLocalTime():yyyy-MM-dd HH:mm:ss}, {running.Status.ToString().ToLowerInvariant()}, {active} of {running.Silos.Count} silo(s) active; " +
            $"state in {stateFile.Path}). Stop it with 'shards cluster down' (or Ctrl+C in its terminal), or start another cluster with --cluster-id NAME.",
            ExitCodes.AlreadyRunning);
    }

    /// <summary><c>shards cluster down</c>: SIGTERM to the launcher named by the state file, and wait until it stopped.</summary>
    private static Command Down(GlobalOptions global)
    {
        // The launcher gives each silo up to 30 s to stop before it SIGKILLs it: wait longer than that by default.
        var wait = new Option<int>("--timeout") { Description = "Seconds to wait for the launcher to stop its silos and exit", DefaultValueFactory = _ => 60 };
        wait.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 3600)
            {
                result.AddError("--timeout must be between 1 and 3600 seconds.");
            }
        });
        var down = new Command("down", "Stop a 'shards cluster up' running from this folder (in another terminal): SIGTERM to its launcher, which stops every silo") { wait };
        global.SetAction(down, async (parseResult, context, ct) =>
        {
            var stateFile = ClusterStateFile.For(context.Cluster.ClusterId);
            var reading = stateFile.Read();
            var orphans = reading.State?.Silos.Any(s => s.IsRunning()) ?? false;
            if (!reading.IsRunning && !orphans)
            {
                await ClusterHosts.RemoveLeftoversAsync(context, ct);
                var removed = reading.IsStale && ClusterShutdown.RemoveIfStale(stateFile);
                throw new CliException(
                    $"No cluster '{context.Cluster.ClusterId}' runs from this folder ({reading.NotRunningReason}" +
                    (removed ? "; removed it" : string.Empty) + "): nothing to stop.", ExitCodes.NotFound);
            }

            var timeout = TimeSpan.FromSeconds(parseResult.GetValue(wait));
            ClusterShutdownResult result;
            try
            {
                result = await ClusterShutdown.StopAsync(stateFile, timeout, CliOutput.Status, ct);
            }
            catch (InvalidOperationException ex)
            {
                throw new CliException(ex.Message, ExitCodes.Unavailable);
            }

            // One JSON document either way: this one when everything stopped, else the error document with it as details.
            var document = new
            {
                clusterId = context.Cluster.ClusterId,
                stopped = result.LauncherStopped && result.StillRunning.Count == 0,
                result.LauncherPid,
                silos = result.Silos.Select(s => new { s.Name, s.Pid }),
                leftovers = result.Leftovers.Select(s => new { s.Name, s.Pid }),
                stillRunning = result.StillRunning.Select(s => new { s.Name, s.Pid }),
                seconds = result.Took.TotalSeconds,
            };
            if (!result.LauncherStopped)
            {
                throw new CliException(
                    $"The launcher (pid {result.LauncherPid}) still runs after {timeout.TotalSeconds:0} s; it may still be stopping its silos (see its terminal). " +
                    $"Wait and run 'shards cluster down' again, or end it with: kill -9 {result.LauncherPid} (its silos then stop by themselves).",
                    ExitCodes.Unavailable, document);
            }

            if (result.StillRunning.Count > 0)
            {
                throw new CliException(
                    "Silo process(es) still run: " + string.Join(", ", result.StillRunning.Select(s => $"{s.Name} (pid {s.Pid})")) + ".", ExitCodes.Unavailable, document);
            }

            await ClusterHosts.RemoveLeftoversAsync(context, ct); // a launcher that was killed (or is killed above) leaves its hosts
            context.Output.Document(document);

            var leftovers = result.Leftovers.Count > 0 ? $"; {result.Leftovers.Count} silo process(es) that outlived it terminated here." : ".";
            context.Output.Line($"Cluster '{context.Cluster.ClusterId}' stopped in {result.Took.TotalSeconds:0.0} s: " + (result.LauncherPid is { } pid
                ? $"launcher pid {pid} and its {result.Silos.Count} silo(s){leftovers}"
                : $"its launcher was gone already{leftovers}"));
            return ExitCodes.Ok;
        });
        return down;
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
            var reading = ClusterStateFile.For(context.Cluster.ClusterId).Read();
            if (reading is not { IsRunning: true, State: { } state })
            {
                throw new CliException(reading.NotRunningMessage, ExitCodes.NotFound);
            }

            var connectionString = await context.ResolveConnectionStringAsync(startPrivateServer: false, ct);
            var membership = new MembershipTableReader(context.DataSources.For(connectionString));
            var before = (await membership.ReadAsync(context.Cluster.ClusterId, ct))
                .Where(r => r.Status == SiloStatusCode.Active).Select(r => r.SiloAddress).ToHashSet();
            if (!PosixSignals.Send(state.LauncherPid, PosixSignals.SigUsr2))
            {
                throw new CliException($"Could not signal the launcher (pid {state.LauncherPid}).", ExitCodes.Unavailable);
            }

            var watch = System.Diagnostics.Stopwatch.StartNew();
            CliOutput.Status($"Sent SIGUSR2 to the launcher (pid {state.LauncherPid}); replacing {before.Count} silo(s) one at a time ...");
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
