using System.Text.Json;
using Shards.Postgres;
using Shards.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Shards.Tests.Processes;

/// <summary>
/// A one-silo <c>shards cluster up</c> on a database that holds a Dead row of an earlier run: the launcher prunes it
/// before its silo starts, and <c>shards top</c> shows the silo with its activations and call counts, read from the
/// silo through the management grain. The launcher and its silo are stopped at the end.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
[Collection(HeavyProcessesCollection.Name)]
public sealed class TopCommandTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_cliTimeout = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 240_000)]
    public async Task The_launcher_prunes_earlier_dead_rows_and_top_shows_the_live_silo_with_its_counts()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("top");
        await Sql.ExecuteAsync(connectionString, "INSERT INTO orleans_membership_version (deploymentid, version) VALUES ('shards', 0)");
        await Sql.ExecuteAsync(
            connectionString,
            """
            INSERT INTO orleans_membership (deploymentid, address, port, generation, siloname, hostname, status, proxyport, starttime, iamalivetime)
            VALUES ('shards', '127.0.0.1', 1, 1, 'silo-of-an-earlier-run', 'host', 6, 2, now() - interval '1 day', now() - interval '1 day')
            """);
        await using var run = await LauncherStateProcessTests.LauncherRun.StartAsync(connectionString, silos: 1, output);

        Assert.Contains("removed 1 dead silo row(s) of earlier runs", run.Output, StringComparison.Ordinal);
        var rows = await MembershipTableReader.ReadAsync(connectionString, "shards");
        Assert.DoesNotContain(rows, r => r.SiloName == "silo-of-an-earlier-run");

        var plain = await CliProcess.RunAsync(
            ["top", "--iterations", "2", "--interval", "0.5", "--connection", connectionString], timeout: s_cliTimeout, workingDirectory: run.Folder);
        output.WriteLine(plain.Stdout + plain.Stderr);
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        Assert.Equal(2, plain.Stdout.Split('\n').Count(l => l.StartsWith("shards top: cluster 'shards', 1 active", StringComparison.Ordinal)));
        Assert.Contains("CALLS/S", plain.Stdout, StringComparison.Ordinal);
        Assert.Contains("silo-1", plain.Stdout, StringComparison.Ordinal);

        var json = await CliProcess.RunAsync(["top", "--once", "--json", "--connection", connectionString], timeout: s_cliTimeout, workingDirectory: run.Folder);
        Assert.True(json.ExitCode == 0, json.Stderr);
        var silo = Assert.Single(JsonDocument.Parse(json.Stdout.Trim()).RootElement.GetProperty("silos").EnumerateArray());
        Assert.Equal(("silo-1", "active"), (silo.GetProperty("name").GetString(), silo.GetProperty("status").GetString()));
        Assert.Equal(JsonValueKind.Number, silo.GetProperty("calls").ValueKind);
        Assert.Equal(JsonValueKind.Number, silo.GetProperty("callsPerSecond").ValueKind);
        Assert.Equal(JsonValueKind.Number, silo.GetProperty("activations").ValueKind);
    }
}
