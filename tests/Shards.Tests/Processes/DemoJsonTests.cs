using System.Text.Json;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Processes;

/// <summary><c>shards demo --json</c> prints exactly one JSON document on stdout, as its help promises; progress goes to stderr.</summary>
[Trait(TestCategories.Name, TestCategories.Process)]
[Collection(HeavyProcessesCollection.Name)]
public sealed class DemoJsonTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact(Timeout = 300_000)]
    public async Task Demo_json_prints_exactly_one_document_the_summary()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("demojson");

        var run = await CliProcess.RunAsync(
            ["demo", "--json", "--silos", "2", "--products", "6", "--carts", "6", "--connection", connectionString], timeout: TimeSpan.FromSeconds(240));

        output.WriteLine(run.Stderr);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var summary = JsonDocument.Parse(run.Stdout).RootElement; // a second document would make Parse fail
        Assert.Equal(JsonValueKind.Object, summary.ValueKind);
        Assert.Equal(2, summary.GetProperty("silos").GetInt32());
        Assert.Contains("[8/8]", run.Stderr, StringComparison.Ordinal);
    }
}
