using Shards.Bench;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Bench;

/// <summary>pgbench, the bench's yardstick, run as a child process against the tests' private PostgreSQL.</summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class PgbenchTests
{
    [Fact]
    public async Task Pgbench_gets_the_password_of_the_server_it_measures()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("pgbench_host");
        var pgbench = new Pgbench(TestPostgres.DataSources, connectionString);

        await pgbench.InitialiseAsync(CancellationToken.None);

        Assert.True(await pgbench.SimpleUpdateTpsAsync(1, TimeSpan.FromSeconds(1), CancellationToken.None) > 0);
    }
}
