using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Shards.Cli.Core;
using Shards.Postgres;

namespace Shards.Tests.Database;

/// <summary>
/// One <see cref="NpgsqlDataSource"/> per database per owner: the registry's key, its instances, the DI registration
/// and disposal. No server is needed: a data source connects only when a connection is opened.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class PostgresDataSourcesTests
{
    private const string Main = "Host=db-main;Database=shards;Username=shards;Password=secret";
    private const string ShardA = "Host=db-a;Database=shards_s0;Username=shards;Password=secret";
    private const string ShardB = "Host=db-b;Database=shards_s1;Username=shards;Password=secret";

    [Fact]
    public void Spellings_of_one_connection_string_share_a_key()
    {
        var key = PostgresDataSources.KeyOf(Main);

        Assert.Equal(key, PostgresDataSources.KeyOf("password=secret;USERNAME=shards;database=shards;Server=db-main;Port=5432"));
        Assert.Equal(key, PostgresDataSources.KeyOf(Main + ";Maximum Pool Size=100;Command Timeout=30")); // Npgsql's defaults
    }

    [Fact]
    public void Another_database_user_or_setting_is_another_key()
    {
        var key = PostgresDataSources.KeyOf(Main);

        Assert.NotEqual(key, PostgresDataSources.KeyOf(ShardA));
        Assert.NotEqual(key, PostgresDataSources.KeyOf(Main.Replace("Username=shards", "Username=other", StringComparison.Ordinal)));
        Assert.NotEqual(key, PostgresDataSources.KeyOf(Main + ";Port=5433"));
        // Settings are part of the key: a data source never takes the settings of whichever caller came first.
        Assert.NotEqual(key, PostgresDataSources.KeyOf(Main + ";Command Timeout=5"));
        Assert.NotEqual(key, PostgresDataSources.KeyOf(Main + ";Maximum Pool Size=2"));
    }

    [Fact]
    public async Task One_database_gets_one_data_source_and_two_databases_two()
    {
        await using var registry = new PostgresDataSources();

        var main = registry.For(Main);

        Assert.Same(main, registry.For(Main));
        Assert.Same(main, registry.For("Database=shards;Host=db-main;Password=secret;Username=shards"));
        Assert.NotSame(main, registry.For(ShardA));
        Assert.Equal(2, registry.Count);
    }

    [Fact]
    public async Task A_data_source_has_the_connection_strings_settings_and_prepares_statements()
    {
        await using var registry = new PostgresDataSources();

        var settings = new NpgsqlConnectionStringBuilder(registry.For(Main + ";Maximum Pool Size=7;Command Timeout=9").ConnectionString);

        Assert.Equal(7, settings.MaxPoolSize);
        Assert.Equal(9, settings.CommandTimeout);
        Assert.Equal(20, settings.MaxAutoPrepare);
        Assert.Equal(2, settings.AutoPrepareMinUsages);
        Assert.Equal(30, new NpgsqlConnectionStringBuilder(registry.For(ShardA + ";Max Auto Prepare=30").ConnectionString).MaxAutoPrepare);
    }

    [Fact]
    public async Task Disposing_the_registry_disposes_its_data_sources()
    {
        var registry = new PostgresDataSources();
        var main = registry.For(Main);
        var shard = registry.For(ShardA);

        await registry.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await main.OpenConnectionAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await shard.OpenConnectionAsync());
        Assert.Throws<ObjectDisposedException>(() => registry.For(Main));
        await registry.DisposeAsync(); // idempotent
    }

    [Fact]
    public async Task The_container_resolves_the_main_database_once_and_each_shard_by_its_name()
    {
        var services = new ServiceCollection();
        services.AddShardsDataSources(Main, [new("s0", ShardA), new("s1", ShardB), new("main", Main)]);
        var provider = services.BuildServiceProvider();

        var main = provider.GetRequiredService<NpgsqlDataSource>();
        var registry = provider.GetRequiredService<PostgresDataSources>();

        Assert.Same(main, provider.GetRequiredService<NpgsqlDataSource>());
        Assert.Same(main, registry.For(Main));
        Assert.Same(main, provider.GetRequiredKeyedService<NpgsqlDataSource>("main"));
        var s0 = provider.GetRequiredKeyedService<NpgsqlDataSource>("s0");
        var s1 = provider.GetRequiredKeyedService<NpgsqlDataSource>("s1");
        Assert.NotSame(s0, s1);
        Assert.Same(s0, registry.For(ShardA));
        Assert.Same(s1, provider.GetRequiredKeyedService<NpgsqlDataSource>("s1"));
        Assert.Equal(3, registry.Count);

        await provider.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => registry.For(Main));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await s0.OpenConnectionAsync());
    }

    [Fact]
    public async Task A_shared_registry_outlives_the_container()
    {
        await using var registry = new PostgresDataSources();
        var services = new ServiceCollection();
        services.AddShardsDataSources(Main, shared: registry);
        var provider = services.BuildServiceProvider();

        var main = provider.GetRequiredService<NpgsqlDataSource>();
        Assert.Same(registry, provider.GetRequiredService<PostgresDataSources>());
        Assert.Same(registry.For(Main), main);

        await provider.DisposeAsync();

        Assert.Same(main, registry.For(Main)); // neither the registry nor its data source was disposed
        Assert.Equal(1, registry.Count);
    }

    [Fact]
    public async Task A_command_runs_context_owns_its_data_sources_and_an_inner_context_shares_them()
    {
        var context = new CliContext(json: true, connection: Main, clusterId: null);
        var main = context.DataSources.For(Main);

        await using (var inner = new CliContext(json: true, connection: Main, clusterId: "inner", context.DataSources))
        {
            Assert.Same(main, inner.DataSources.For(Main));
        }

        Assert.Same(main, context.DataSources.For(Main)); // the inner context disposed nothing
        await context.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => context.DataSources.For(Main));
    }
}
