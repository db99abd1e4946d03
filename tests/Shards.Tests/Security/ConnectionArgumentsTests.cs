using Microsoft.Extensions.Configuration;
using Shards.Cli.Core;

namespace Shards.Tests.Security;

/// <summary>How a connection string given on the command line is resolved: by name, from stdin, or literally with a warning.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ConnectionArgumentsTests : IDisposable
{
    private const string Secret = "Host=db;Database=shards;Username=shards;Password=s3cret";

    private readonly StringWriter _warnings = new();

    private ConnectionArguments Arguments(string? input = null, bool terminal = false) => new(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Prod"] = Secret }).Build(),
        new StringReader(input ?? string.Empty), terminal, _warnings);

    public void Dispose() => _warnings.Dispose();

    [Fact]
    public void A_name_is_read_from_the_configured_connection_strings_without_a_warning()
    {
        Assert.Equal(Secret, Arguments().Resolve("name:Prod", "--connection"));
        Assert.Empty(_warnings.ToString());
    }

    [Theory]
    [InlineData("name:Missing", "ConnectionStrings__Missing")]
    [InlineData("name:", "ConnectionStrings__NAME")]
    public void An_unknown_name_is_bad_input_naming_the_environment_variable(string value, string variable)
    {
        var error = Assert.Throws<CliException>(() => Arguments().Resolve(value, "--connection"));

        Assert.Equal(ExitCodes.BadInput, error.ExitCode);
        Assert.Contains(variable, error.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing changed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dash_reads_the_first_line_of_standard_input_without_a_warning()
    {
        Assert.Equal(Secret, Arguments(Secret + "\nignored\n").Resolve("-", "DB"));
        Assert.Empty(_warnings.ToString());
    }

    [Theory]
    [InlineData("", false, "standard input is empty")]
    [InlineData("\n", false, "standard input is empty")]
    [InlineData(Secret, true, "standard input is a terminal")]
    public void A_dash_without_a_connection_string_on_standard_input_is_bad_input(string input, bool terminal, string message)
    {
        var error = Assert.Throws<CliException>(() => Arguments(input, terminal).Resolve("-", "DB"));

        Assert.Equal(ExitCodes.BadInput, error.ExitCode);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Standard_input_is_read_for_one_connection_string_only()
    {
        var arguments = Arguments(Secret + "\n" + Secret + "\n");
        arguments.Resolve("-", "--connection");

        var error = Assert.Throws<CliException>(() => arguments.Resolve("-", "DB"));
        Assert.Contains("already read", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Secret)]
    [InlineData("Host=db;PWD=s3cret")]
    [InlineData("Host=db;Unknown Keyword=1;password=s3cret")]
    public void A_password_on_the_command_line_is_used_with_one_warning(string value)
    {
        Assert.Equal(value, Arguments().Resolve(value, "--connection"));

        var warning = Assert.Single(_warnings.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--connection", warning, StringComparison.Ordinal);
        Assert.Contains("process list", warning, StringComparison.Ordinal);
        Assert.Contains("name:NAME", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=db;Database=shards;Username=shards")]
    [InlineData("Host=db;Password=")]
    [InlineData("s2")]
    public void A_value_without_a_password_is_used_without_a_warning(string value)
    {
        Assert.Equal(value, Arguments().Resolve(value, "DB"));
        Assert.Empty(_warnings.ToString());
    }
}
