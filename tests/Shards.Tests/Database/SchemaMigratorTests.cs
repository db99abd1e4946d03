using Npgsql;
using Shards.Postgres;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Database;

[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class SchemaMigratorTests(PostgresDatabaseFixture database) : IClassFixture<PostgresDatabaseFixture>
{
    [Fact]
    public async Task Applying_the_schema_again_changes_nothing_and_reports_every_migration_current()
    {
        // The fixture applied it once already.
        var source = TestPostgres.DataSources.For(database.ConnectionString);
        var again = await new SchemaMigrator(source).ApplyAsync();

        Assert.Empty(again.Applied);
        Assert.Equal(SchemaMigrator.Migrations.Select(m => m.Version), again.AlreadyCurrent);
        Assert.Equal(SchemaMigrator.Migrations.Select(m => m.Version), await new SchemaStatus(source).ReadAsync());
    }

    [Fact]
    public async Task Concurrent_appliers_on_a_fresh_database_all_succeed()
    {
        var fresh = await TestPostgres.CreateDatabaseAsync("concurrent");
        await using (var connection = new NpgsqlConnection(fresh))
        {
            await connection.OpenAsync();
            await using var reset = new NpgsqlCommand("DROP SCHEMA public CASCADE; CREATE SCHEMA public;", connection);
            await reset.ExecuteNonQueryAsync();
        }

        var source = TestPostgres.DataSources.For(fresh);
        var reports = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => new SchemaMigrator(source).ApplyAsync()));

        Assert.Equal(SchemaMigrator.Migrations.Count, reports.Sum(r => r.Applied.Count));
        Assert.Equal(SchemaMigrator.Migrations.Select(m => m.Version), await new SchemaStatus(source).ReadAsync());
    }

    [Fact]
    public void Migrations_are_numbered_and_ordered()
    {
        Assert.NotEmpty(SchemaMigrator.Migrations);
        Assert.All(SchemaMigrator.Migrations, m => Assert.Matches("^[0-9]{4}_[a-z_]+$", m.Version));
        Assert.Equal(SchemaMigrator.Migrations.Select(m => m.Version).Order(StringComparer.Ordinal), SchemaMigrator.Migrations.Select(m => m.Version));
    }
}
