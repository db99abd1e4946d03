using System.Diagnostics;
using System.Text.Json;
using Shards.LocalCluster;

namespace Shards.Tests.LocalCluster;

/// <summary>The launcher's state file: what it holds, that a reader never sees half a write, and when it is stale.</summary>
[Trait("Category", "Unit")]
public sealed class ClusterStateFileTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"shards-state-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void A_written_state_reads_back_whole_as_the_running_cluster_of_this_process()
    {
        var file = ClusterStateFile.For("shards", _folder);
        var state = Here() with
        {
            Status = LauncherStatus.Running,
            Silos = [Silo("silo-1", Environment.ProcessId, LocalSiloStatus.Active), Silo("silo-2", null, LocalSiloStatus.Restarting) with { Restarts = 2 }],
        };

        file.Write(state);
        var reading = file.Read();

        Assert.True(reading.IsRunning, reading.StaleBecause);
        var read = reading.State!;
        Assert.Equal(state with { UpdatedAt = read.UpdatedAt, Silos = read.Silos }, read);
        Assert.Equal(state.Silos, read.Silos);
        Assert.True(read.UpdatedAt > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.True(read.Silos[0].IsRunning());
        Assert.False(read.Silos[1].IsRunning());
    }

    [Fact]
    public void The_file_is_plain_camel_case_json_with_statuses_as_words_and_no_credentials()
    {
        var file = ClusterStateFile.For("shards", _folder);
        file.Write(Here() with { Silos = [Silo("silo-1", 4242, LocalSiloStatus.Active)] });

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "cluster.json")));
        var root = json.RootElement;
        Assert.Equal(Environment.ProcessId, root.GetProperty("launcherPid").GetInt32());
        Assert.Equal("shards", root.GetProperty("clusterId").GetString());
        Assert.Equal("127.0.0.1:5432/shards", root.GetProperty("database").GetString());
        Assert.Equal("starting", root.GetProperty("status").GetString());
        var silo = root.GetProperty("silos")[0];
        Assert.Equal("active", silo.GetProperty("status").GetString());
        foreach (var field in new[] { "name", "pid", "siloPort", "gatewayPort", "httpPort", "httpUrl", "logFile" })
        {
            Assert.True(silo.TryGetProperty(field, out _), field);
        }

        Assert.DoesNotContain("password", json.RootElement.GetRawText(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_reader_never_sees_half_a_write_and_no_temporary_file_is_left()
    {
        var file = ClusterStateFile.For("shards", _folder);
        file.Write(Here());
        var unreadable = new List<string>();
        using var writing = new CancellationTokenSource();

        var reader = Task.Run(() =>
        {
            while (!writing.IsCancellationRequested)
            {
                if (file.Read() is { IsRunning: false } reading)
                {
                    unreadable.Add(reading.NotRunningReason);
                }
            }
        });
        for (var i = 0; i < 300; i++)
        {
            // Sizes vary from one write to the next, so that a reader of a file written in place would see a torn one.
            file.Write(Here() with { Silos = [.. Enumerable.Range(1, 1 + i % 7).Select(n => Silo($"silo-{n}", 1000 + n, LocalSiloStatus.Active))] });
        }

        writing.Cancel();
        await reader.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Empty(unreadable);
        Assert.Equal(["cluster.json"], Directory.GetFiles(_folder).Select(Path.GetFileName).Where(name => !name!.EndsWith(".lock", StringComparison.Ordinal)));
        Assert.Equal(1 + (299 % 7), file.Read().State!.Silos.Count); // the last write wins
    }

    [Fact]
    public void No_file_means_no_cluster()
    {
        var reading = ClusterStateFile.For("shards", _folder).Read();

        Assert.False(reading.IsRunning);
        Assert.False(reading.IsStale);
        Assert.Contains("No cluster 'shards' runs from this folder", reading.NotRunningMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_whose_launcher_exited_is_stale()
    {
        var pid = ExitedProcessId();
        var file = ClusterStateFile.For("shards", _folder);
        file.Write(Here() with { LauncherPid = pid, LauncherStartTicks = 12345 });

        var reading = file.Read();

        Assert.False(reading.IsRunning);
        Assert.True(reading.IsStale);
        Assert.Contains($"pid {pid}, no longer runs", reading.StaleBecause, StringComparison.Ordinal);
        Assert.Contains("stale", reading.NotRunningMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_whose_launcher_pid_now_belongs_to_another_process_is_stale()
    {
        using var other = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            var file = ClusterStateFile.For("shards", _folder);
            var ticks = LocalProcesses.StartTicks(other.Id)!.Value;

            // Another start time than the one written down: the pid was handed to another process.
            file.Write(Here() with { LauncherPid = other.Id, LauncherStartTicks = ticks + 1 });
            Assert.Contains("now belongs to another process (sleep)", file.Read().StaleBecause, StringComparison.Ordinal);

            // No start time written down: the command line must name shards.
            file.Write(Here() with { LauncherPid = other.Id, LauncherStartTicks = null });
            Assert.True(file.Read().IsStale);

            // The same process, start time and all: it runs.
            file.Write(Here() with { LauncherPid = other.Id, LauncherStartTicks = ticks });
            Assert.True(file.Read().IsRunning);
        }
        finally
        {
            other.Kill();
            other.WaitForExit();
        }
    }

    [Fact]
    public void A_silo_is_running_only_while_its_recorded_process_runs()
    {
        var ticks = LocalProcesses.StartTicks(Environment.ProcessId);

        Assert.True(Silo("silo-1", Environment.ProcessId, LocalSiloStatus.Active).IsRunning());
        Assert.False((Silo("silo-1", Environment.ProcessId, LocalSiloStatus.Active) with { PidStartTicks = ticks + 1 }).IsRunning());
        Assert.False(Silo("silo-1", ExitedProcessId(), LocalSiloStatus.Active).IsRunning());
        Assert.False(Silo("silo-1", null, LocalSiloStatus.Restarting).IsRunning());
    }

    [Fact]
    public void An_unreadable_file_or_one_of_another_cluster_is_stale()
    {
        var file = ClusterStateFile.For("shards", _folder);
        Directory.CreateDirectory(_folder);

        File.WriteAllText(file.FullPath, "{ \"launcherPid\": 1, ");
        Assert.Contains("cannot be read", file.Read().StaleBecause, StringComparison.Ordinal);

        file.Write(Here() with { ClusterId = "blue" });
        Assert.Contains("describes cluster 'blue'", file.Read().StaleBecause, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_one_process_at_a_time_holds_the_launcher_lock_of_a_cluster()
    {
        var file = ClusterStateFile.For("shards", _folder);

        var first = file.TryClaim();
        Assert.NotNull(first);
        Assert.Null(file.TryClaim());
        using (var blue = ClusterStateFile.For("blue", _folder).TryClaim())
        {
            Assert.NotNull(blue);
        }

        first.Dispose();
        using var again = file.TryClaim();
        Assert.NotNull(again);
    }

    [Fact]
    public void The_launcher_removes_only_its_own_file()
    {
        var file = ClusterStateFile.For("shards", _folder);
        file.Write(Here() with { LauncherPid = ExitedProcessId() });
        Assert.False(file.DeleteIfOwnedByThisProcess());
        Assert.True(File.Exists(file.FullPath));

        file.Write(Here());
        Assert.True(file.DeleteIfOwnedByThisProcess());
        Assert.False(File.Exists(file.FullPath));
    }

    [Theory]
    [InlineData("shards", "cluster.json")]
    [InlineData("blue", "cluster-blue.json")]
    [InlineData("a/../b c", "cluster-a_.._b_c.json")]
    public void Each_cluster_id_has_a_file_of_its_own(string clusterId, string fileName)
    {
        Assert.Equal(fileName, ClusterStateFile.FileName(clusterId));
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, ".shards", fileName), ClusterStateFile.For(clusterId).FullPath);
        Assert.Equal(Path.Combine(".shards", fileName), ClusterStateFile.For(clusterId).Path);
    }

    private static ClusterState Here() => ClusterState.StartingHere("shards", "shards", "127.0.0.1:5432/shards");

    private static LocalSiloState Silo(string name, int? pid, LocalSiloStatus status) => new()
    {
        Name = name,
        Pid = pid,
        PidStartTicks = pid is { } p ? LocalProcesses.StartTicks(p) : null,
        SiloPort = 11111,
        GatewayPort = 30000,
        HttpPort = 8080,
        HttpUrl = "http://127.0.0.1:8080",
        LogFile = $"/tmp/{name}.log",
        Status = status,
        StartedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>The pid of a process that ran and was reaped.</summary>
    private static int ExitedProcessId()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }
}
