using Shards.Cli.Core;
using Shards.Postgres;
using Shards.Storage.Postgres.Sharding;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Sharding;

/// <summary><c>shards reshard</c> refusing a request prints its error alone: no "Resharding ..." heading before it.</summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class ReshardCommandProcessTests
{
    [Fact]
    public async Task Removing_an_unknown_shard_prints_only_the_error_and_changes_nothing()
    {
        var main = await TestPostgres.CreateDatabaseAsync("reshard_cli");
        await new SchemaMigrator(TestPostgres.DataSources.For(main)).ApplyAsync();
        var maps = TestStores.Maps(main);
        Assert.True(await maps.TryPublishAsync("shards", 1, ShardMapDocument.For(ShardSet.Resolve(null, main))));

        var run = await CliProcess.RunAsync(["reshard", "remove", "s9"], new Dictionary<string, string> { ["ConnectionStrings__Shards"] = main });

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("Unknown shard 's9'", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Resharding service", run.Stderr + run.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, (await maps.ReadCurrentAsync("shards"))!.Version);
    }
}
