using System.Text.Json;
using Shards.LocalCluster;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Processes;

/// <summary>
/// <c>shards db stop</c> and the "no PostgreSQL" error while a <c>shards cluster up</c> of the folder runs. The launcher
/// is this test process, named by a state file the test writes, so no silo and no PostgreSQL are needed.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class PrivatePostgresInUseTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"shards-db-in-use-{Guid.NewGuid():N}");

    public PrivatePostgresInUseTests()
    {
        var silos = Enumerable.Range(1, 3).Select(i => new LocalSiloState
        {
            Name = $"silo-{i}", Pid = 40000 + i, SiloPort = 11110 + i, GatewayPort = 30000 + i, HttpPort = 8080 + i,
            HttpUrl = $"http://127.0.0.1:{8080 + i}", LogFile = $"silo-{i}.log", Status = LocalSiloStatus.Active,
        }).ToList();
        ClusterStateFile.For("shards", Path.Combine(_folder, ".shards"))
            .Write(ClusterState.StartingHere("shards", "shards", "127.0.0.1:5432/shards") with { Status = LauncherStatus.Running, Silos = silos });
    }

    [Fact(Timeout = 60_000)]
    public async Task Db_stop_while_a_cluster_of_the_folder_runs_is_refused_naming_its_silos_unless_forced()
    {
        var refused = await CliProcess.RunAsync(["db", "stop"], workingDirectory: _folder);

        Assert.Equal(7, refused.ExitCode);
        Assert.Contains("cluster 'shards'", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains($"pid {Environment.ProcessId}", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("silo-1 pid 40001, silo-2 pid 40002, silo-3 pid 40003", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("shards cluster down", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("--force", refused.Stderr, StringComparison.Ordinal);

        var json = await CliProcess.RunAsync(["db", "stop", "--json"], workingDirectory: _folder);
        var error = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("error");
        Assert.Equal(7, json.ExitCode);
        Assert.Equal(7, error.GetProperty("exitCode").GetInt32());
        Assert.Equal(3, error.GetProperty("details").GetProperty("clusters")[0].GetProperty("silos").GetArrayLength());

        var forced = await CliProcess.RunAsync(["db", "stop", "--force"], workingDirectory: _folder);
        Assert.True(forced.ExitCode == 0, forced.Stderr);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_command_without_postgres_while_a_cluster_is_up_says_the_cluster_is_up_and_its_postgres_stopped()
    {
        var run = await CliProcess.RunAsync(["cart", "get", "cart-1"], workingDirectory: _folder);

        Assert.Equal(4, run.ExitCode);
        Assert.Contains("a cluster is up, cluster 'shards' (3 silos: silo-1 pid 40001", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("but its PostgreSQL is stopped; start it with 'shards db start'", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("start everything with 'shards cluster up'", run.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_a_cluster_db_stop_of_a_private_postgres_never_started_succeeds()
    {
        ClusterStateFile.For("shards", Path.Combine(_folder, ".shards")).Delete();

        var run = await CliProcess.RunAsync(["db", "stop"], workingDirectory: _folder);

        Assert.True(run.ExitCode == 0, run.Stderr);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
