using System.Text.Json;
using Shards.Postgres;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Processes;

/// <summary>
/// <c>shards members prune</c> against a membership table written by hand: it deletes only the cluster's Dead rows (all,
/// or those older than --older-than), never a live row nor another cluster's, and leaves the table version alone.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class MembersPruneCommandTests
{
    private static readonly DateTime s_longAgo = DateTime.UtcNow.AddDays(-2);

    [Fact(Timeout = 120_000)]
    public async Task Prune_deletes_every_dead_row_of_the_cluster_and_nothing_else()
    {
        var connectionString = await TableAsync();

        var run = await CliProcess.RunAsync(["members", "prune", "--json", "--cluster-id", "c1", "--connection", connectionString]);

        Assert.True(run.ExitCode == 0, run.Stderr);
        var root = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(2, root.GetProperty("removed").GetInt32());
        Assert.Equal(["old-dead", "new-dead"], root.GetProperty("silos").EnumerateArray().Select(s => s.GetProperty("siloName").GetString()));
        var left = await MembershipTableReader.ReadAsync(connectionString, "c1");
        Assert.Equal(["active", "joining", "shutting-down"], left.Select(r => r.SiloName).Order(StringComparer.Ordinal));
        Assert.Single(await MembershipTableReader.ReadAsync(connectionString, "c2"));
        Assert.Equal(7, await Sql.ScalarAsync<int>(connectionString, "SELECT version FROM orleans_membership_version WHERE deploymentid = 'c1'"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Prune_older_than_keeps_dead_rows_that_heartbeated_or_were_voted_on_since()
    {
        var connectionString = await TableAsync();

        var run = await CliProcess.RunAsync(["members", "prune", "--older-than", "1h", "--cluster-id", "c1", "--connection", connectionString]);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("Removed 1 dead row(s) of cluster 'c1' older than 1h.", run.Stdout, StringComparison.Ordinal);
        var left = await MembershipTableReader.ReadAsync(connectionString, "c1");
        Assert.Contains(left, r => r.SiloName == "new-dead");
        Assert.DoesNotContain(left, r => r.SiloName == "old-dead");
    }

    [Fact(Timeout = 60_000)]
    public async Task Prune_refuses_a_duration_that_does_not_parse()
    {
        var run = await CliProcess.RunAsync(["members", "prune", "--older-than", "soon", "--connection", "Host=127.0.0.1;Port=1"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("'soon' is not a duration", run.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Cluster c1 at table version 7: an old Dead row, a Dead row voted on a minute ago, and an Active, a Joining and a
    /// ShuttingDown row; cluster c2: one old Dead row.
    /// </summary>
    private static async Task<string> TableAsync()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("prune");
        await Sql.ExecuteAsync(connectionString, "INSERT INTO orleans_membership_version (deploymentid, version) VALUES ('c1', 7), ('c2', 3)");
        var recentVote = $"S127.0.0.1:11111:1@1,{DateTime.UtcNow.AddMinutes(-1):yyyy-MM-dd HH:mm:ss.fff} GMT";
        await RowAsync(connectionString, "c1", "old-dead", 11001, SiloStatusCode.Dead, s_longAgo, null);
        await RowAsync(connectionString, "c1", "new-dead", 11002, SiloStatusCode.Dead, s_longAgo.AddMinutes(1), recentVote);
        await RowAsync(connectionString, "c1", "active", 11003, SiloStatusCode.Active, s_longAgo, null);
        await RowAsync(connectionString, "c1", "joining", 11004, SiloStatusCode.Joining, s_longAgo, null);
        await RowAsync(connectionString, "c1", "shutting-down", 11005, SiloStatusCode.ShuttingDown, s_longAgo, null);
        await RowAsync(connectionString, "c2", "other-cluster", 11006, SiloStatusCode.Dead, s_longAgo, null);
        return connectionString;
    }

    private static Task<int> RowAsync(
        string connectionString, string clusterId, string name, int port, SiloStatusCode status, DateTime at, string? votes) =>
        Sql.ExecuteAsync(
            connectionString,
            """
            INSERT INTO orleans_membership
                (deploymentid, address, port, generation, siloname, hostname, status, proxyport, suspecttimes, starttime, iamalivetime)
            VALUES (@c, '127.0.0.1', @port, 1, @name, 'host', @status, @port + 1000, @votes, @at, @at)
            """,
            ("c", clusterId), ("port", port), ("name", name), ("status", (int)status), ("votes", votes), ("at", at));
}
