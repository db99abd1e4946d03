using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Shards.Load;
using Shards.LocalCluster;
using Shards.Postgres;
using Shards.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Shards.Tests.Processes;

/// <summary>
/// <c>shards cluster up</c> in one process, the other commands in others, all in one folder: they find the launcher
/// and its silos through <c>.shards/cluster.json</c>. Every process started here is stopped at the end (SIGTERM, then
/// SIGKILL of the whole tree and of any silo the state file named).
/// </summary>
[Trait("Category", "Process")]
[Collection(HeavyProcessesCollection.Name)]
public sealed class LauncherStateProcessTests(LauncherStateProcessTests.RunningCluster cluster, ITestOutputHelper output)
    : IClassFixture<LauncherStateProcessTests.RunningCluster>
{
    private static readonly TimeSpan s_cliTimeout = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 120_000)]
    public async Task The_launcher_writes_its_pid_and_every_silo_with_pid_ports_and_status_without_credentials()
    {
        var run = await cluster.RunAsync();
        var state = run.State();

        Assert.Equal(run.Pid, state.LauncherPid);
        Assert.Equal(LauncherStatus.Running, state.Status);
        Assert.Equal(("shards", "shards"), (state.ClusterId, state.ServiceId));
        Assert.Equal(PostgresAvailability.Describe(run.ConnectionString), state.Database);
        Assert.Equal(["silo-1", "silo-2"], state.Silos.Select(s => s.Name));
        Assert.All(state.Silos, silo =>
        {
            Assert.True(silo.IsRunning(), $"{silo.Name} (pid {silo.Pid}) does not run");
            Assert.Equal(LocalSiloStatus.Active, silo.Status);
            Assert.Equal($"http://127.0.0.1:{silo.HttpPort}", silo.HttpUrl);
            Assert.True(silo.SiloPort > 0 && silo.GatewayPort > 0);
            Assert.StartsWith(Path.Combine(run.Folder, ".shards", "logs"), silo.LogFile, StringComparison.Ordinal);
        });
        Assert.DoesNotContain("Username", File.ReadAllText(run.StateFile.FullPath), StringComparison.OrdinalIgnoreCase);

        // The load's nemeses find the same silos there.
        var found = ClusterSiloProcess.Find("shards", Path.Combine(run.Folder, ".shards"));
        Assert.Equal(state.Silos.Select(s => (s.Pid!.Value, s.Name, s.SiloPort)), found.Select(s => (s.Pid, s.Name, s.SiloPort)));
        Assert.All(found, s => Assert.Equal(run.Pid, s.LauncherPid));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_second_cluster_up_of_a_running_cluster_is_refused_before_anything_starts()
    {
        var run = await cluster.RunAsync();
        var rowsBefore = await MembershipTableReader.ReadAsync(run.ConnectionString, "shards");
        var watch = Stopwatch.StartNew();

        var second = await CliProcess.RunAsync(["cluster", "up", "--silos", "1", "--connection", run.ConnectionString], timeout: s_cliTimeout, workingDirectory: run.Folder);

        output.WriteLine(second.Stderr);
        Assert.Equal(7, second.ExitCode);
        Assert.Contains($"pid {run.Pid}", second.Stderr, StringComparison.Ordinal);
        Assert.Contains("shards cluster down", second.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Starting", second.Stderr, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"the refusal took {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(run.Pid, run.State().LauncherPid);
        Assert.Equal(rowsBefore.Count, (await MembershipTableReader.ReadAsync(run.ConnectionString, "shards")).Count);
    }

    [Fact(Timeout = 120_000)]
    public async Task Members_shows_the_pid_and_http_port_of_each_active_silo_from_the_state_file()
    {
        var run = await cluster.RunAsync();
        await run.WaitUntilAsync(s => s.Silos.All(silo => silo.Status == LocalSiloStatus.Active), TimeSpan.FromSeconds(60));
        var state = run.State();

        var members = await CliProcess.RunAsync(["members", "--json", "--connection", run.ConnectionString], timeout: s_cliTimeout, workingDirectory: run.Folder);

        Assert.True(members.ExitCode == 0, members.Stderr);
        var root = JsonDocument.Parse(members.Stdout).RootElement;
        Assert.Equal(run.Pid, root.GetProperty("launcher").GetProperty("pid").GetInt32());
        var listed = root.GetProperty("members").EnumerateArray()
            .Where(m => m.GetProperty("status").GetString() == "active")
            .Select(m => (m.GetProperty("name").GetString(), m.GetProperty("pid").GetInt32(), m.GetProperty("httpPort").GetInt32()))
            .OrderBy(m => m.Item1, StringComparer.Ordinal);
        Assert.Equal(state.Silos.Select(s => ((string?)s.Name, s.Pid!.Value, s.HttpPort)), listed);
    }

    [Fact(Timeout = 180_000)]
    public async Task Kill_finds_the_silo_in_the_state_file_and_the_launcher_writes_down_its_restart()
    {
        var run = await cluster.RunAsync();
        await run.WaitUntilAsync(s => s.Silos.All(silo => silo.Status == LocalSiloStatus.Active), TimeSpan.FromSeconds(60));
        var victim = run.State().Silos.Single(s => s.Name == "silo-2");

        var kill = await CliProcess.RunAsync(["kill", "silo-2", "--json"], timeout: s_cliTimeout, workingDirectory: run.Folder);

        Assert.True(kill.ExitCode == 0, kill.Stderr);
        Assert.Equal(victim.Pid, JsonDocument.Parse(kill.Stdout).RootElement.GetProperty("pid").GetInt32());
        var back = await run.WaitUntilAsync(
            s => s.Silos.Single(silo => silo.Name == "silo-2") is { Status: LocalSiloStatus.Active, Restarts: 1 } silo && silo.Pid != victim.Pid,
            TimeSpan.FromSeconds(90));
        var restarted = back.Silos.Single(s => s.Name == "silo-2");
        Assert.Equal((victim.SiloPort, victim.HttpPort), (restarted.SiloPort, restarted.HttpPort));
        Assert.True(restarted.IsRunning());
        Assert.False(victim.IsRunning());

        var unknown = await CliProcess.RunAsync(["kill", "silo-9"], timeout: s_cliTimeout, workingDirectory: run.Folder);
        Assert.Equal(3, unknown.ExitCode);
        Assert.Contains("its silos: silo-1, silo-2", unknown.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task Cluster_down_stops_a_cluster_that_another_process_started()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("down");
        await using var run = await LauncherRun.StartAsync(connectionString, silos: 1, output);
        var silos = run.State().Silos;

        var down = await CliProcess.RunAsync(["cluster", "down"], timeout: TimeSpan.FromSeconds(90), workingDirectory: run.Folder);

        output.WriteLine(down.Stdout + down.Stderr);
        Assert.True(down.ExitCode == 0, down.Stderr);
        Assert.Contains("Cluster 'shards' stopped", down.Stdout, StringComparison.Ordinal);
        Assert.True(run.Process.WaitForExit(10_000), "the launcher still runs");
        Assert.All(silos, silo => Assert.False(silo.IsRunning(), $"{silo.Name} (pid {silo.Pid}) still runs"));
        Assert.False(File.Exists(run.StateFile.FullPath), "the launcher left its state file behind");
        Assert.DoesNotContain(await MembershipTableReader.ReadAsync(connectionString, "shards"), r => r.Status == SiloStatusCode.Active);

        var again = await CliProcess.RunAsync(["cluster", "down"], timeout: s_cliTimeout, workingDirectory: run.Folder);
        Assert.Equal(3, again.ExitCode);
        Assert.Contains("No cluster 'shards' runs from this folder", again.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_stale_state_file_is_no_cluster_for_kill_restart_and_down_which_removes_it()
    {
        var folder = NewFolder();
        try
        {
            var file = ClusterStateFile.For("shards", Path.Combine(folder, ".shards"));
            var launcher = ExitedProcessId();
            file.Write(ClusterState.StartingHere("shards", "shards") with { LauncherPid = launcher, Silos = [FakeSilo("silo-1", ExitedProcessId(), null)] });

            foreach (var command in new[] { new[] { "kill", "silo-1" }, ["cluster", "restart"] })
            {
                var run = await CliProcess.RunAsync(command, timeout: s_cliTimeout, workingDirectory: folder);
                Assert.Equal(3, run.ExitCode);
                Assert.Contains($".shards/cluster.json is stale: its launcher, pid {launcher}, no longer runs", run.Stderr, StringComparison.Ordinal);
            }

            var down = await CliProcess.RunAsync(["cluster", "down"], timeout: s_cliTimeout, workingDirectory: folder);
            Assert.Equal(3, down.ExitCode);
            Assert.Contains("removed it", down.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(file.FullPath));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Cluster_down_terminates_silos_that_outlived_their_launcher()
    {
        var folder = NewFolder();
        using var orphan = Process.Start(new ProcessStartInfo("sleep", "120") { UseShellExecute = false })!;
        try
        {
            var file = ClusterStateFile.For("shards", Path.Combine(folder, ".shards"));
            file.Write(ClusterState.StartingHere("shards", "shards") with
            {
                LauncherPid = ExitedProcessId(),
                Silos = [FakeSilo("silo-1", orphan.Id, LocalProcesses.StartTicks(orphan.Id))],
            });

            var down = await CliProcess.RunAsync(["cluster", "down"], timeout: s_cliTimeout, workingDirectory: folder);

            output.WriteLine(down.Stdout + down.Stderr);
            Assert.True(down.ExitCode == 0, down.Stderr);
            Assert.Contains("outlived their launcher", down.Stderr, StringComparison.Ordinal);
            Assert.True(orphan.WaitForExit(10_000), "the orphaned silo still runs");
            Assert.False(File.Exists(file.FullPath));
        }
        finally
        {
            if (!orphan.HasExited)
            {
                orphan.Kill();
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    private static string NewFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"shards-launcher-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static LocalSiloState FakeSilo(string name, int pid, long? ticks) => new()
    {
        Name = name,
        Pid = pid,
        PidStartTicks = ticks,
        SiloPort = 1,
        GatewayPort = 2,
        HttpPort = 3,
        HttpUrl = "http://127.0.0.1:3",
        LogFile = "/dev/null",
        Status = LocalSiloStatus.Active,
    };

    private static int ExitedProcessId()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    /// <summary>One <c>shards cluster up --silos 2</c> shared by the tests of the class (started on first use).</summary>
    public sealed class RunningCluster : IAsyncLifetime
    {
        private readonly Lock _lock = new();
        private Task<LauncherRun>? _run;

        public async Task<LauncherRun> RunAsync()
        {
            lock (_lock)
            {
                _run ??= StartAsync();
            }

            var run = await _run;
            return run.Process.HasExited
                ? throw new InvalidOperationException($"the shared launcher exited early:{Environment.NewLine}{run.Output}")
                : run;
        }

        private static async Task<LauncherRun> StartAsync() =>
            await LauncherRun.StartAsync(await TestPostgres.CreateDatabaseAsync("launcher"), silos: 2, output: null);

        public Task InitializeAsync() => Task.CompletedTask;

        public async Task DisposeAsync()
        {
            if (_run is { IsCompletedSuccessfully: true })
            {
                await (await _run).DisposeAsync();
            }
        }
    }

    /// <summary>A <c>shards cluster up</c> child process in a folder of its own.</summary>
    public sealed class LauncherRun : IAsyncDisposable
    {
        private readonly StringBuilder _output = new();
        private readonly HashSet<int> _siloPids = [];
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private LauncherRun(string folder, string connectionString, Process process)
        {
            Folder = folder;
            ConnectionString = connectionString;
            Process = process;
            StateFile = ClusterStateFile.For("shards", Path.Combine(folder, ".shards"));
        }

        public string Folder { get; }

        public string ConnectionString { get; }

        public Process Process { get; }

        public int Pid => Process.Id;

        public ClusterStateFile StateFile { get; }

        /// <summary>Every silo pid this run has seen in the state file.</summary>
        public IReadOnlyList<int> SiloPids
        {
            get
            {
                lock (_siloPids)
                {
                    return [.. _siloPids];
                }
            }
        }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public static async Task<LauncherRun> StartAsync(string connectionString, int silos, ITestOutputHelper? output)
        {
            var folder = NewFolder();
            var startInfo = new ProcessStartInfo(Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet")
            {
                WorkingDirectory = folder,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { CliBuild(), "cluster", "up", "--silos", silos.ToString(), "--connection", connectionString })
            {
                startInfo.ArgumentList.Add(argument);
            }

            startInfo.Environment.Remove("ConnectionStrings__Shards");
            var run = new LauncherRun(folder, connectionString, Process.Start(startInfo)!);
            run.Process.StandardInput.Close();
            run.Process.OutputDataReceived += (_, e) => run.OnLine(e.Data);
            run.Process.ErrorDataReceived += (_, e) => run.OnLine(e.Data);
            run.Process.BeginOutputReadLine();
            run.Process.BeginErrorReadLine();
            try
            {
                await Task.WhenAny(run._ready.Task, run.Process.WaitForExitAsync()).WaitAsync(TimeSpan.FromSeconds(150));
                if (!run._ready.Task.IsCompleted)
                {
                    throw new InvalidOperationException($"shards cluster up exited with code {run.Process.ExitCode} before its silos were active:{Environment.NewLine}{run.Output}");
                }

                run.State(); // remembers the silos' pids, to be killed should the launcher not stop them
                return run;
            }
            catch
            {
                output?.WriteLine(run.Output);
                await run.DisposeAsync();
                throw;
            }
        }

        /// <summary>
        /// The CLI as its own project built it (client/Shards.Cli/bin/CONFIGURATION/TFM): the copy in the test output runs
        /// the commands that need no Orleans client, but lacks Microsoft.AspNetCore.Connections.Abstractions, which the
        /// tests' ASP.NET Core framework reference replaced and the CLI's runtime configuration does not load.
        /// </summary>
        private static string CliBuild()
        {
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var (framework, configuration) = (output.Name, output.Parent!.Name);
            for (var folder = output; folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "Shards.sln")))
                {
                    var dll = Path.Combine(folder.FullName, "client", "Shards.Cli", "bin", configuration, framework, "shards.dll");
                    Assert.True(File.Exists(dll), $"{dll} is missing: build the solution (dotnet build Shards.sln)");
                    return dll;
                }
            }

            throw new InvalidOperationException($"No Shards.sln above {output.FullName}");
        }

        /// <summary>The state file now (it must be there and name this launcher).</summary>
        public ClusterState State()
        {
            var reading = StateFile.Read();
            Assert.True(reading.IsRunning, reading.NotRunningMessage);
            Remember(reading.State!);
            return reading.State!;
        }

        public async Task<ClusterState> WaitUntilAsync(Func<ClusterState, bool> condition, TimeSpan within)
        {
            var watch = Stopwatch.StartNew();
            while (true)
            {
                if (StateFile.Read() is { IsRunning: true, State: { } state })
                {
                    Remember(state);
                    if (condition(state))
                    {
                        return state;
                    }
                }

                Assert.True(watch.Elapsed < within, $"the state file did not reach the expected state within {within.TotalSeconds:0} s:{Environment.NewLine}" +
                    File.ReadAllText(StateFile.FullPath) + Environment.NewLine + Output);
                await Task.Delay(100);
            }
        }

        private void Remember(ClusterState state)
        {
            lock (_siloPids)
            {
                _siloPids.UnionWith(state.Silos.Select(s => s.Pid).OfType<int>());
            }
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }

            if (line.Contains("silo(s) active after", StringComparison.Ordinal))
            {
                _ready.TrySetResult();
            }
        }

        public async ValueTask DisposeAsync()
        {
            var state = StateFile.Read().State;
            if (state is not null)
            {
                Remember(state);
            }

            if (!Process.HasExited)
            {
                PosixSignals.Send(Process.Id, PosixSignals.SigTerm);
                using var graceful = new CancellationTokenSource(TimeSpan.FromSeconds(45));
                try
                {
                    await Process.WaitForExitAsync(graceful.Token);
                }
                catch (OperationCanceledException)
                {
                    Process.Kill(entireProcessTree: true);
                    await Process.WaitForExitAsync();
                }
            }

            List<int> pids;
            lock (_siloPids)
            {
                pids = [.. _siloPids];
            }

            foreach (var pid in pids.Where(pid => LocalProcesses.CommandLine(pid).Any(a => a.Contains("Shards.Silo", StringComparison.Ordinal))))
            {
                PosixSignals.Send(pid, PosixSignals.SigKill);
            }

            Process.Dispose();
            try
            {
                Directory.Delete(Folder, recursive: true);
            }
            catch (IOException)
            {
                // A silo's log still being closed: a leftover temp folder is harmless.
            }
        }
    }
}
