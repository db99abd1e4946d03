using Shards.Cli;

namespace Shards.Tests.Sharding;

/// <summary>The <c>shards shards</c> spelling of <c>shards map</c> (a subcommand cannot share the root command's name).</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ShardsCommandLineTests
{
    [Theory]
    [InlineData(new[] { "shards" }, new[] { "map" })]
    [InlineData(new[] { "--json", "shards" }, new[] { "--json", "map" })]
    [InlineData(new[] { "--cluster-id", "shards", "shards", "--json" }, new[] { "--cluster-id", "shards", "map", "--json" })]
    [InlineData(new[] { "--connection", "Host=x", "shards" }, new[] { "--connection", "Host=x", "map" })]
    [InlineData(new[] { "where", "product/shards" }, new[] { "where", "product/shards" })]
    [InlineData(new[] { "map" }, new[] { "map" })]
    public void Shards_shards_is_spelled_as_the_map_command(string[] args, string[] expected) =>
        Assert.Equal(expected, ShardsCli.Spelled(args));

    [Theory]
    [InlineData(new[] { "help" }, new[] { "--help" })]
    [InlineData(new[] { "help", "cart", "add" }, new[] { "cart", "add", "--help" })]
    [InlineData(new[] { "--json", "help", "load" }, new[] { "--json", "load", "--help" })]
    [InlineData(new[] { "help", "shards" }, new[] { "map", "--help" })]
    public void Shards_help_is_the_help_of_the_command_after_it(string[] args, string[] expected) =>
        Assert.Equal(expected, ShardsCli.Spelled(args));

    [Theory]
    [InlineData("shards")]
    [InlineData("--json shards")]
    [InlineData("map --json")]
    public void Shards_shards_parses_to_the_map_command_without_errors(string commandLine)
    {
        var result = ShardsCli.Build().Parse(ShardsCli.Spelled(commandLine.Split(' ')));

        Assert.Empty(result.Errors);
        Assert.Equal("map", result.CommandResult.Command.Name);
    }

    [Theory]
    [InlineData("cluster up --shards 3", 3)]
    [InlineData("demo --shards 2", 2)]
    [InlineData("cluster up", 1)]
    public void Cluster_up_and_the_demo_take_a_shard_count(string commandLine, int shards)
    {
        var result = ShardsCli.Build().Parse(commandLine.Split(' '));

        Assert.Empty(result.Errors);
        Assert.Equal(shards, result.GetValue<int>("--shards"));
    }

    [Fact]
    public void A_shard_count_beyond_the_limit_is_rejected()
    {
        var result = ShardsCli.Build().Parse(["cluster", "up", "--shards", "17"]);

        Assert.Contains(result.Errors, e => e.Message.Contains("--shards must be between 1 and 16", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("reshard add s2", "add")]
    [InlineData("reshard add Host=127.0.0.1;Database=shards_s2 --name s2", "add")]
    [InlineData("reshard remove s1", "remove")]
    public void Reshard_add_and_remove_take_a_database(string commandLine, string operation)
    {
        var result = ShardsCli.Build().Parse(commandLine.Split(' '));

        Assert.Empty(result.Errors);
        Assert.Equal(operation, result.CommandResult.Command.Name);
    }

    [Theory]
    [InlineData("reshard add")]
    [InlineData("reshard remove")]
    [InlineData("reshard remove s1 --name s2")]
    public void Reshard_without_a_database_or_with_a_name_to_remove_is_rejected(string commandLine) =>
        Assert.NotEmpty(ShardsCli.Build().Parse(commandLine.Split(' ')).Errors);
}
