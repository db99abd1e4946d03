using Shards.Tests.Infrastructure;

namespace Shards.Tests.Processes;

/// <summary><c>shards members</c> for a cluster ID no silo ever used is an error (exit 3) that names it, not an empty table.</summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class MembersCommandTests
{
    [Fact(Timeout = 120_000)]
    public async Task Members_of_a_cluster_no_silo_ever_joined_exits_3_naming_the_cluster_id()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("members");

        var run = await CliProcess.RunAsync(["members", "--cluster-id", "nope-cluster", "--connection", connectionString]);

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("'nope-cluster'", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("--cluster-id", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout.Trim());
    }
}
