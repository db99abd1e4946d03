using Microsoft.Extensions.Options;
using Microsoft.Extensions.Configuration;
using Shards.Hashing;
using Shards.Storage.Postgres;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Tests.Sharding;

/// <summary>How a silo's shard configuration is read, validated and compared with a stored shard map (no database).</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ShardConfigurationTests
{
    private const string Main = "Host=127.0.0.1;Port=5432;Database=shards;Username=postgres;Password=secret";

    [Fact]
    public void Without_configured_shards_all_state_goes_to_the_main_database_as_shard_main()
    {
        var set = ShardSet.Resolve(new ShardsStorageOptions(), Main);

        var shard = Assert.Single(set.Shards);
        Assert.Equal("main", shard.Name);
        Assert.Equal(Main, shard.ConnectionString);
        Assert.Equal("127.0.0.1:5432/shards", shard.Target);
    }

    [Fact]
    public void Shards_bind_from_environment_style_keys()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Shards:Storage:Shards:0:Name"] = "s0",
            ["Shards:Storage:Shards:0:ConnectionString"] = "Host=10.0.0.1;Database=shards_s0;Username=app;Password=secret",
            ["Shards:Storage:Shards:1:Name"] = "s1",
            ["Shards:Storage:Shards:1:ConnectionString"] = "Host=10.0.0.2;Database=shards_s1;Username=app;Password=secret",
            ["Shards:Storage:MapLease"] = "00:00:20",
        }).Build();

        var options = configuration.GetSection(ShardsStorageOptions.Section).Get<ShardsStorageOptions>()!;
        var set = ShardSet.Resolve(options, Main);

        Assert.Equal(["s0", "s1"], set.Names);
        Assert.Equal(TimeSpan.FromSeconds(20), options.MapLease);
        Assert.Equal("s1 (10.0.0.2:5432/shards_s1)", set.Find("s1")!.ToString());
        Assert.DoesNotContain("secret", set.ToString(), StringComparison.Ordinal);
        Assert.Equal(new ShardLocation("s0", "10.0.0.1", 5432, "shards_s0"), set.Find("s0")!.Location());
    }

    [Theory]
    [InlineData("S0", "Host=a;Database=x", "not a shard name")]
    [InlineData("0s", "Host=a;Database=x", "not a shard name")]
    [InlineData("s@0", "Host=a;Database=x", "not a shard name")]
    [InlineData("s0", "", "needs a PostgreSQL connection string")]
    [InlineData("s0", "Nonsense Key=1", "needs a PostgreSQL connection string")]
    public void A_bad_shard_is_rejected_with_a_message_a_person_can_act_on(string name, string connectionString, string message)
    {
        var options = new ShardsStorageOptions { Shards = [new ShardOptions { Name = name, ConnectionString = connectionString }] };

        var error = Assert.Throws<OptionsValidationException>(() => ShardSet.Resolve(options, Main));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_shards_with_one_name_or_one_database_are_rejected()
    {
        ShardsStorageOptions Options(string secondName, string secondDatabase) => new()
        {
            Shards =
            [
                new ShardOptions { Name = "s0", ConnectionString = "Host=a;Database=one" },
                new ShardOptions { Name = secondName, ConnectionString = $"Host=a;Database={secondDatabase}" },
            ],
        };

        Assert.Contains("configured twice", Assert.Throws<OptionsValidationException>(() => ShardSet.Resolve(Options("s0", "two"), Main)).Message, StringComparison.Ordinal);
        Assert.Contains("same database", Assert.Throws<OptionsValidationException>(() => ShardSet.Resolve(Options("s1", "one"), Main)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_map_is_usable_when_every_shard_it_names_is_configured()
    {
        var configured = ShardSet.Resolve(
            new ShardsStorageOptions
            {
                Shards =
                [
                    new ShardOptions { Name = "s0", ConnectionString = "Host=a;Database=one" },
                    new ShardOptions { Name = "s1", ConnectionString = "Host=a;Database=two" },
                    new ShardOptions { Name = "s2", ConnectionString = "Host=a;Database=three" },
                ],
            },
            Main);

        Assert.Null(Map("s0", "s1").ProblemFor(configured)); // s2 is rolled out ahead of a resharding: allowed, unused
        Assert.Contains("no connection string for s9", Map("s0", "s9").ProblemFor(configured), StringComparison.Ordinal);
        Assert.Contains("algorithm 'jump'", (Map("s0") with { Document = Map("s0").Document with { Algorithm = "jump" } }).ProblemFor(configured), StringComparison.Ordinal);
    }

    private static ShardMap Map(params string[] names) => new(
        "svc",
        1,
        DateTimeOffset.UnixEpoch,
        new ShardMapDocument(ShardRouter.Algorithm, ShardRouter.DefaultVirtualNodes, names.Select(n => new ShardLocation(n, "a", 5432, n)).ToList()));
}
