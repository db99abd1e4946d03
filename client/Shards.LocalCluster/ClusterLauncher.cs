using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;
using Shards.Client;
using Shards.Contracts.Operations;
using Shards.LocalCluster.Hosts;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;

namespace Shards.LocalCluster;

/// <summary>
/// A local cluster master: starts N silo processes on free loopback ports, waits until each is Active in the
/// membership table, re-forks a silo that crashed (same name and ports), and on stop sends SIGTERM to all and
/// waits for a graceful shutdown (SIGKILL after <see cref="LauncherOptions.StopTimeout"/>). With
/// <see cref="LauncherOptions.StateFile"/> it writes its state there whenever it changes, and removes it on stop.
/// </summary>
public sealed class ClusterLauncher : IAsyncDisposable
{
    private static readonly TimeSpan s_maxRestartDelay = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many routes a death declaration takes at once. The client sends all calls to one grain through one gateway
    /// (it buckets by grain ID); when that gateway is the silo that just died, the call waited 1-2 s for the client to
    /// find out. The admin grain is a stateless worker, so each key is a different bucket and most likely a different
    /// gateway: the first answer wins (declaring twice is harmless).
    /// </summary>
    private const int DeclarationRoutes = 4;
    private readonly LauncherOptions _options;
    private readonly Action<string> _report;
    private readonly List<SupervisedSilo> _silos = [];
    private readonly List<Task> _monitors = [];
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>This run's operator token: its silos get it, and only calls that carry it may declare a silo dead.</summary>
    private readonly string _operatorToken = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    private readonly SemaphoreSlim _rolling = new(1, 1);

    /// <summary>Guards <see cref="_silos"/>, <see cref="_monitors"/> and the state file's writes.</summary>
    private readonly Lock _state = new();
    private readonly ClusterStateFile? _stateFile;
    private readonly ClusterState? _identity;
    private LauncherStatus _status = LauncherStatus.Starting;
    private bool _stateRemoved;
    private IHost? _adminClient;

    public ClusterLauncher(LauncherOptions options, Action<string>? report = null)
    {
        _options = options;
        _report = report ?? (_ => { });
        Directory.CreateDirectory(options.LogDirectory);
        if (options.StateFile is { } stateFile)
        {
            _stateFile = new ClusterStateFile(stateFile, options.ClusterId);
            _identity = ClusterState.StartingHere(options.ClusterId, options.ServiceId, PostgresAvailability.Describe(options.ConnectionString));
        }
    }

    public IReadOnlyList<SupervisedSilo> Silos => _silos;

    /// <summary>Raised after a supervised silo exited on its own (before any restart).</summary>
    public event Action<SupervisedSilo, int>? SiloCrashed;

    /// <summary>Starts the configured number of silos and waits until every one is Active.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.PruneDeadMembersOnStart)
        {
            var pruned = await DeadMembersPruner.PruneAsync(_options.ConnectionString, _options.ClusterId, TimeSpan.Zero, cancellationToken);
            if (pruned.Count > 0)
            {
                _report($"removed {pruned.Count} dead silo row(s) of earlier runs from the membership table");
            }
        }

        var starting = new List<SupervisedSilo>();
        for (var i = 0; i < _options.SiloCount; i++)
        {
            starting.Add(AddSilo());
        }

        PublishState();

        // The first silo creates the membership version row; the others join in parallel after it.
        await StartAndWaitActiveAsync(starting[0], cancellationToken);
        await Task.WhenAll(starting.Skip(1).Select(silo => StartAndWaitActiveAsync(silo, cancellationToken)));
        if (_options.DeclareCrashedSilosDead)
        {
            await ConnectAdminClientAsync(cancellationToken);
        }

        _status = LauncherStatus.Running;
        PublishState();
        if (_options.KillSilosDeclaredDead)
        {
            lock (_state)
            {
                _monitors.Add(KillDeclaredDeadAsync());
            }
        }
    }

    /// <summary>
    /// Until the launcher stops: a silo whose current process runs while its membership row (address, port, generation)
    /// says Dead is SIGKILLed (<see cref="LauncherOptions.KillSilosDeclaredDead"/>).
    /// </summary>
    private async Task KillDeclaredDeadAsync()
    {
        using var timer = new PeriodicTimer(_options.DeclaredDeadCheckPeriod);
        var killed = new HashSet<int>(); // a process SIGKILLed is not reported again while it exits
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                IReadOnlyList<MembershipRow> rows;
                try
                {
                    rows = await MembershipTableReader.ReadAsync(_options.ConnectionString, _options.ClusterId, _stopping.Token);
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    continue; // PostgreSQL away or cut off: look again
                }

                List<SupervisedSilo> silos;
                lock (_state)
                {
                    silos = [.. _silos];
                }

                foreach (var silo in silos)
                {
                    if (silo is { Joined: { } identity, Retiring: false, State: SupervisedSiloState.Running, Pid: { } pid } &&
                        rows.FirstOrDefault(identity.Is) is { Status: SiloStatusCode.Dead } &&
                        PosixSignals.Send(pid, PosixSignals.SigKill) && killed.Add(pid))
                    {
                        _report($"{silo.Name} (pid {pid}) was declared dead by the cluster but still runs (cut off from the others?): SIGKILL, as for a crash");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The launcher stops.
        }
    }

    /// <summary>
    /// Replaces every silo, one at a time: start the replacement (new ports), wait until it is Active, then stop the
    /// old one gracefully (its grains deactivate and callers' retries find them on the others). Zero failed calls
    /// for clients that retry, as Shards clients do. Overlapping requests wait for the running one.
    /// </summary>
    public async Task RollingRestartAsync(CancellationToken cancellationToken)
    {
        await _rolling.WaitAsync(cancellationToken);
        try
        {
            for (var i = 0; i < _silos.Count; i++)
            {
                var old = _silos[i];
                await WhileRestartingAsync(old, cancellationToken); // a crashed silo is replaced once, by its supervisor first
                var watch = Stopwatch.StartNew();
                var replacement = NewSilo(old.Name);
                _report($"rolling restart: starting a replacement for {old.Name} on port {replacement.SiloPort} (HTTP {replacement.HttpUrl})");
                await StartAndWaitActiveAsync(replacement, cancellationToken);
                old.Retiring = true;
                lock (_state)
                {
                    _silos[i] = replacement;
                }

                PublishState();
                await StopSiloAsync(old);
                _report($"rolling restart: {old.Name} replaced (pid {replacement.Pid}) in {watch.Elapsed.TotalSeconds:0.0} s");
            }
        }
        finally
        {
            _rolling.Release();
        }
    }

    /// <summary>Waits (up to the start timeout) while the supervisor restarts <paramref name="silo"/> after a crash.</summary>
    private async Task WhileRestartingAsync(SupervisedSilo silo, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (silo.State is SupervisedSiloState.Restarting or SupervisedSiloState.Starting && watch.Elapsed < _options.StartTimeout)
        {
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Adds one more silo to the cluster and waits until it is Active.</summary>
    public async Task<SupervisedSilo> StartAdditionalSiloAsync(CancellationToken cancellationToken)
    {
        var silo = AddSilo();
        await StartAndWaitActiveAsync(silo, cancellationToken);
        return silo;
    }

    /// <summary>SIGKILL, as a crash would. The supervisor restarts it when restarts are enabled.</summary>
    public bool Kill(SupervisedSilo silo) => _silos.Contains(silo) && silo.Pid is { } pid && PosixSignals.Send(pid, PosixSignals.SigKill);

    /// <summary>Graceful stop of every silo (SIGTERM, then SIGKILL after the stop timeout).</summary>
    public async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        _status = LauncherStatus.Stopping;
        PublishState();
        if (_adminClient is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _adminClient.StopAsync(timeout.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            _adminClient.Dispose();
        }

        List<SupervisedSilo> silos;
        lock (_state)
        {
            silos = [.. _silos];
        }

        await Task.WhenAll(silos.Select(StopSiloAsync));
        List<Task> monitors;
        lock (_state)
        {
            monitors = [.. _monitors];
        }

        await Task.WhenAll(monitors);
        RemoveState();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
        _rolling.Dispose();
    }

    private SupervisedSilo AddSilo()
    {
        lock (_state)
        {
            var silo = NewSilo($"silo-{_silos.Count + 1}");
            _silos.Add(silo);
            return silo;
        }
    }

    /// <summary>Writes the state file (when there is one) from what the launcher knows now; a failure is reported, not fatal.</summary>
    private void PublishState()
    {
        if (_stateFile is null || _identity is null)
        {
            return;
        }

        lock (_state)
        {
            if (_stateRemoved)
            {
                return;
            }

            try
            {
                _stateFile.Write(_identity with { Status = _status, Silos = [.. _silos.Select(StateOf)] });
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _report($"could not write the state file {_stateFile.Path}: {ex.Message}");
            }
        }
    }

    /// <summary>The launcher stops: no cluster runs any more, so its state file goes.</summary>
    private void RemoveState()
    {
        if (_stateFile is null)
        {
            return;
        }

        lock (_state)
        {
            _stateRemoved = true;
            try
            {
                _stateFile.DeleteIfOwnedByThisProcess();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _report($"could not remove the state file {_stateFile.Path}: {ex.Message}");
            }
        }
    }

    private static LocalSiloState StateOf(SupervisedSilo silo)
    {
        var pid = silo.Pid;
        return new LocalSiloState
        {
            Name = silo.Name,
            Pid = pid,
            PidStartTicks = pid is null ? null : silo.StartTicks,
            Address = silo.AdvertisedAddress,
            Namespace = silo.Host?.Namespace,
            SiloPort = silo.SiloPort,
            Generation = silo.Joined?.Generation,
            GatewayPort = silo.GatewayPort,
            HttpPort = silo.HttpPort,
            HttpUrl = silo.HttpUrl,
            LogFile = silo.LogFile,
            // A process that exited before the supervisor saw it: no longer active, whatever the launcher thought.
            Status = pid is null && silo.State is SupervisedSiloState.Running or SupervisedSiloState.Stopping
                ? LocalSiloStatus.Stopped
                : silo.State switch
                {
                    SupervisedSiloState.Starting => LocalSiloStatus.Starting,
                    SupervisedSiloState.Running => LocalSiloStatus.Active,
                    SupervisedSiloState.Restarting => LocalSiloStatus.Restarting,
                    SupervisedSiloState.Stopping => LocalSiloStatus.Stopping,
                    SupervisedSiloState.Failed => LocalSiloStatus.Failed,
                    _ => LocalSiloStatus.Stopped,
                },
            Restarts = silo.Restarts,
            StartedAt = silo.StartedAt == default ? null : silo.StartedAt,
        };
    }

    /// <summary>The simulated host of silo <paramref name="name"/> (<c>silo-K</c> runs on host K); null without hosts.</summary>
    private SimulatedHost? HostOf(string name) =>
        _options.Hosts is not { } hosts ? null
        : name.StartsWith("silo-", StringComparison.Ordinal) && int.TryParse(name.AsSpan(5), out var number) ? hosts.Silo(number)
        : throw new InvalidOperationException($"No simulated host for a silo named {name}.");

    /// <summary>A silo on three new free loopback ports: silo-to-silo, gateway and HTTP.</summary>
    private SupervisedSilo NewSilo(string name)
    {
        var ports = new List<int>();
        while (ports.Count < 3)
        {
            var port = PrivatePostgresServer.FreeLoopbackPort();
            if (!ports.Contains(port))
            {
                ports.Add(port);
            }
        }

        return new SupervisedSilo(name, ports[0], ports[1], ports[2], Path.GetFullPath(Path.Combine(_options.LogDirectory, name + ".log")), HostOf(name));
    }

    private async Task StartAndWaitActiveAsync(SupervisedSilo silo, CancellationToken cancellationToken)
    {
        StartProcess(silo);
        await WaitUntilActiveAsync(silo, cancellationToken);
        silo.State = SupervisedSiloState.Running;
        var monitor = SuperviseAsync(silo);
        lock (_state)
        {
            _monitors.Add(monitor);
        }

        PublishState();
    }

    private void StartProcess(SupervisedSilo silo)
    {
        var (program, programPrefix) = SiloExecutable.Resolve();

        // On a simulated host the silo runs in its namespace: 'ip netns exec' enters it and execs the silo (same pid).
        var (fileName, prefix) = silo.Host is { } host
            ? ("ip", (IReadOnlyList<string>)["netns", "exec", host.Namespace, program, .. programPrefix])
            : (program, programPrefix);
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in prefix)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Settings travel as arguments (visible in ps, for people; other commands find silos through the state file);
        // the connection string travels in the environment so that a password never shows in a process list.
        var settings = new Dictionary<string, string>(_options.SiloSettings, StringComparer.Ordinal)
        {
            ["Shards:Silo:Name"] = silo.Name,
            ["Shards:Silo:AdvertisedAddress"] = silo.AdvertisedAddress,
            ["Shards:Silo:SiloPort"] = silo.SiloPort.ToString(),
            ["Shards:Silo:GatewayPort"] = silo.GatewayPort.ToString(),
            ["Shards:Api:Port"] = silo.HttpPort.ToString(),
            ["Shards:Cluster:ClusterId"] = _options.ClusterId,
            ["Shards:Cluster:ServiceId"] = _options.ServiceId,
            ["Shards:Silo:ParentProcessId"] = Environment.ProcessId.ToString(),
        };
        if (silo.Host is not null)
        {
            // Its host's address only: other hosts reach it there, and nothing listens on the namespace's loopback.
            settings["Shards:Silo:ListenAddress"] = silo.AdvertisedAddress;
            settings["Shards:Api:ListenAddress"] = silo.AdvertisedAddress;
        }

        foreach (var (key, value) in settings)
        {
            startInfo.ArgumentList.Add($"--{key}={value}");
        }

        foreach (var (name, value) in _options.SiloEnvironment)
        {
            startInfo.Environment[name] = value;
        }

        startInfo.Environment["ConnectionStrings__Shards"] = _options.ConnectionString;
        if (_options.Tls is { Enabled: true } tls)
        {
            startInfo.Environment["Shards__Tls__Enabled"] = "true";
            startInfo.Environment["Shards__Tls__CertificatePath"] = tls.CertificatePath ?? string.Empty;
            startInfo.Environment["Shards__Tls__CertificatePassword"] = tls.CertificatePassword ?? string.Empty;
            startInfo.Environment["Shards__Tls__StoreSubject"] = tls.StoreSubject ?? string.Empty;
        }

        if (_options.ApiKey is not null)
        {
            startInfo.Environment["Shards__Api__Keys__0"] = _options.ApiKey;
        }

        // Only the launcher may declare its silos dead (OperatorOnly): a token of this run, never on a command line.
        startInfo.Environment["Shards__Operator__Token"] = _operatorToken;

        startInfo.Environment["DOTNET_ENVIRONMENT"] = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? "Production";

        var log = new StreamWriter(new FileStream(silo.LogFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => WriteLog(log, e.Data);
        process.ErrorDataReceived += (_, e) => WriteLog(log, e.Data);
        process.Exited += (_, _) =>
        {
            lock (log)
            {
                log.Dispose();
            }
        };
        WriteLog(log, $"---- {DateTimeOffset.Now:O} launcher starts {silo.Name} ----");
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        silo.Process = process;
        silo.StartTicks = LocalProcesses.StartTicks(process.Id);
        silo.StartedAt = DateTimeOffset.UtcNow;
        silo.Joined = null;
        PublishState();
    }

    private static void WriteLog(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // The process exited while its last lines were in flight.
            }
        }
    }

    /// <summary>How much earlier than the launcher's clock a silo's row may say it started (the silo stamps its own start).</summary>
    private static readonly TimeSpan RowClockSkew = TimeSpan.FromSeconds(5);

    private async Task WaitUntilActiveAsync(SupervisedSilo silo, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _options.StartTimeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var process = silo.Process!;
            if (process.HasExited)
            {
                silo.State = SupervisedSiloState.Failed;
                PublishState();
                throw new InvalidOperationException(
                    $"{silo.Name} exited with code {process.ExitCode} before it joined the cluster.{Environment.NewLine}{LogTail(silo)}");
            }

            var rows = await MembershipTableReader.ReadAsync(_options.ConnectionString, _options.ClusterId, cancellationToken);
            if (SiloIdentity.Newest(rows, silo.AdvertisedAddress, silo.SiloPort, silo.StartedAt - RowClockSkew) is { Status: SiloStatusCode.Active } joined)
            {
                silo.Joined = SiloIdentity.Of(joined);
                PublishState();
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                silo.State = SupervisedSiloState.Failed;
                PublishState();
                throw new TimeoutException($"{silo.Name} did not become Active within {_options.StartTimeout.TotalSeconds:0} s.{Environment.NewLine}{LogTail(silo)}");
            }

            await Task.Delay(150, cancellationToken);
        }
    }

    private async Task SuperviseAsync(SupervisedSilo silo)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!_stopping.IsCancellationRequested)
        {
            var process = silo.Process!;
            try
            {
                await WaitForExitOrKillFrozenAsync(silo, process);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var exitCode = process.ExitCode;
            var lived = DateTimeOffset.UtcNow - silo.StartedAt;
            if (_stopping.IsCancellationRequested || silo.Retiring)
            {
                return;
            }

            if (_options.DeclareCrashedSilosDead)
            {
                await DeclareDeadAsync(silo, silo.Joined, silo.StartedAt);
            }

            SiloCrashed?.Invoke(silo, exitCode);

            if (!_options.RestartCrashedSilos)
            {
                silo.State = SupervisedSiloState.Stopped;
                PublishState();
                _report($"{silo.Name} exited with code {exitCode} ({Describe(exitCode)}); restarts are off");
                return;
            }

            delay = lived > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(1) : Min(delay * 2, s_maxRestartDelay);
            silo.State = SupervisedSiloState.Restarting;
            PublishState();
            _report($"{silo.Name} exited with code {exitCode} ({Describe(exitCode)}); restarting in {delay.TotalSeconds:0} s");
            try
            {
                await Task.Delay(delay, _stopping.Token);
                if (silo.Retiring)
                {
                    return; // a rolling restart replaced it meanwhile
                }

                StartProcess(silo);
                silo.Restarts++;
                await WaitUntilActiveAsync(silo, _stopping.Token);
                silo.State = SupervisedSiloState.Running;
                PublishState();
                _report($"{silo.Name} is back (pid {silo.Pid}, restart #{silo.Restarts})");
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or Npgsql.NpgsqlException)
            {
                silo.State = SupervisedSiloState.Restarting;
                PublishState();
                _report($"{silo.Name} failed to restart: {ex.Message.Split(Environment.NewLine)[0]}");
                if (ex is Npgsql.NpgsqlException && silo.Process is { HasExited: false } alive)
                {
                    // The membership table did not answer (PostgreSQL restarting), but the process runs and may join once it
                    // is back: keep looking for its row, so that its identity and state are known when it does.
                    _ = WatchLateJoinAsync(silo, alive);
                }
            }
        }
    }

    /// <summary>
    /// Waits for the process to exit. A process found stopped (SIGSTOP) for <see cref="LauncherOptions.KillFrozenSilosAfter"/>
    /// is SIGKILLed: it can serve nothing, and its exit then takes the usual crash path (declared dead at once).
    /// </summary>
    /// <summary>
    /// A restarted process whose join could not be confirmed (the membership table did not answer): once its row is
    /// Active, it is Running with that identity. Ends when it joined, when it exited, or when the launcher stops.
    /// </summary>
    private async Task WatchLateJoinAsync(SupervisedSilo silo, Process process)
    {
        while (!process.HasExited && !_stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _stopping.Token);
                var rows = await MembershipTableReader.ReadAsync(_options.ConnectionString, _options.ClusterId, _stopping.Token);
                if (ReferenceEquals(silo.Process, process) && !process.HasExited &&
                    SiloIdentity.Newest(rows, silo.AdvertisedAddress, silo.SiloPort, silo.StartedAt - RowClockSkew) is { Status: SiloStatusCode.Active } joined)
                {
                    silo.Joined = SiloIdentity.Of(joined);
                    silo.State = SupervisedSiloState.Running;
                    PublishState();
                    _report($"{silo.Name} is back (pid {process.Id}, restart #{silo.Restarts}; it joined once PostgreSQL answered again)");
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // PostgreSQL still away: look again.
            }
        }
    }

    private async Task WaitForExitOrKillFrozenAsync(SupervisedSilo silo, Process process)
    {
        if (_options.KillFrozenSilosAfter is not { } limit)
        {
            await process.WaitForExitAsync(_stopping.Token);
            return;
        }

        var check = TimeSpan.FromMilliseconds(Math.Clamp(limit.TotalMilliseconds / 4, 50, 250));
        long? stoppedSince = null;
        while (!process.HasExited)
        {
            try
            {
                await process.WaitForExitAsync(_stopping.Token).WaitAsync(check, _stopping.Token);
                return;
            }
            catch (TimeoutException)
            {
                // Still running: is it frozen?
            }

            if (silo.Retiring || !LocalProcesses.IsStopped(process.Id))
            {
                stoppedSince = null;
                continue;
            }

            stoppedSince ??= Stopwatch.GetTimestamp();
            if (Stopwatch.GetElapsedTime(stoppedSince.Value) >= limit)
            {
                _report($"{silo.Name} (pid {process.Id}) has been stopped (SIGSTOP) for {limit.TotalSeconds:0.#} s: SIGKILL, as for a crash");
                PosixSignals.Send(process.Id, PosixSignals.SigKill);
                await process.WaitForExitAsync(_stopping.Token);
                return;
            }
        }
    }

    private async Task ConnectAdminClientAsync(CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.AddShardsClient(
            _options.ConnectionString,
            new ShardsClusterOptions { ClusterId = _options.ClusterId, ServiceId = _options.ServiceId },
            new ShardsClientOptions { GatewayListRefreshPeriod = TimeSpan.FromSeconds(1), ResponseTimeout = TimeSpan.FromMilliseconds(500), RetryBudget = TimeSpan.FromSeconds(5) },
            ClusterTls.From(_options.Tls));
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        _adminClient = host;

        // Open the declaration routes now (each key is a client bucket bound to a gateway on first use): right after a
        // kill, a client whose only connection was to the dead silo took ~2 s to open another one.
        var grains = host.Services.GetRequiredService<IClusterClient>();
        try
        {
            await Task.WhenAll(Enumerable.Range(0, DeclarationRoutes).Select(key => grains.GetGrain<IClusterAdminGrain>(key).AnswerAsync()))
                .WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _report($"the launcher's declaration routes are not all open yet ({ex.GetType().Name}); a death is still declared through the others");
        }
    }

    /// <summary>The process is gone: tell the cluster now rather than after missed probes.</summary>
    private async Task DeclareDeadAsync(SupervisedSilo silo, SiloIdentity? exited, DateTimeOffset startedAt)
    {
        if (_adminClient is null)
        {
            return;
        }

        var watch = Stopwatch.StartNew();
        try
        {
            // Exactly the row of the process that exited: the one seen joining, else (it died while joining) the newest row
            // at its address and port written since it started. Never a row of an earlier or later process on that port.
            var rows = await MembershipTableReader.ReadAsync(_options.ConnectionString, _options.ClusterId, _stopping.Token);
            var row = exited is { } identity
                ? rows.FirstOrDefault(identity.Is)
                : SiloIdentity.Newest(rows, silo.AdvertisedAddress, silo.SiloPort, startedAt - RowClockSkew);
            if (row is null || row.Status == SiloStatusCode.Dead)
            {
                return;
            }

            var address = SiloAddress.New(new IPEndPoint(IPAddress.Parse(row.Address), row.Port), row.Generation);
            var grains = _adminClient.Services.GetRequiredService<IClusterClient>();
            List<Task<bool>> routes;
            RequestContext.Set(OperatorCalls.TokenKey, _operatorToken);
            try
            {
                routes = Enumerable.Range(0, DeclarationRoutes).Select(key => grains.GetGrain<IClusterAdminGrain>(key).DeclareDeadAsync(address)).ToList();
            }
            finally
            {
                RequestContext.Remove(OperatorCalls.TokenKey);
            }

            var declared = await FirstAnswerAsync(routes).WaitAsync(TimeSpan.FromSeconds(5), _stopping.Token);
            _report($"{silo.Name} declared dead by the launcher {watch.Elapsed.TotalMilliseconds:0} ms after its process exited ({(declared ? "done" : "already dead")})");
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The launcher is stopping: nothing left to declare.
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _report($"{silo.Name}: could not declare it dead ({ex.GetType().Name}: {ex.Message}); the silos' probes will");
        }
    }

    /// <summary>The first of <paramref name="attempts"/> to succeed; the last failure when none does.</summary>
    private static async Task<bool> FirstAnswerAsync(List<Task<bool>> attempts)
    {
        var pending = attempts.ToList();
        while (true)
        {
            var finished = await Task.WhenAny(pending);
            pending.Remove(finished);
            if (!finished.IsCompletedSuccessfully && pending.Count > 0)
            {
                _ = finished.Exception; // observed: another route may still answer
                continue;
            }

            foreach (var other in pending)
            {
                _ = other.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            return await finished;
        }
    }

    private async Task StopSiloAsync(SupervisedSilo silo)
    {
        var process = silo.Process;
        if (process is null || process.HasExited)
        {
            silo.State = SupervisedSiloState.Stopped;
            PublishState();
            return;
        }

        silo.State = SupervisedSiloState.Stopping;
        PublishState();
        PosixSignals.Send(process.Id, PosixSignals.SigTerm);
        using var timeout = new CancellationTokenSource(_options.StopTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _report($"{silo.Name} did not stop within {_options.StopTimeout.TotalSeconds:0} s; killing it");
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        silo.State = SupervisedSiloState.Stopped;
        PublishState();
    }

    private static string LogTail(SupervisedSilo silo)
    {
        try
        {
            using var stream = new FileStream(silo.LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return $"Last lines of {silo.LogFile}:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", lines.TakeLast(8));
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    internal static string Describe(int exitCode) => exitCode switch
    {
        0 => "clean exit",
        134 => "aborted: Orleans fails fast when the cluster declared it dead",
        137 => "killed by SIGKILL",
        143 => "terminated by SIGTERM",
        2 => "start-up failed",
        _ => "crashed",
    };

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
