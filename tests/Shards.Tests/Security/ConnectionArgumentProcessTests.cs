using System.Text.Json;
using Shards.Cli.Core;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Security;

/// <summary>
/// A connection string reaches the CLI without its password in argv (docs/cli.md): by name from the environment, or on
/// standard input; one given on the command line still works, with a warning on stderr.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class ConnectionArgumentProcessTests(PostgresDatabaseFixture database) : IClassFixture<PostgresDatabaseFixture>
{
    [Fact]
    public async Task A_named_connection_is_read_from_the_environment_and_no_password_reaches_argv()
    {
        var run = await CliProcess.RunAsync(
            ["--json", "--connection", "name:Elsewhere", "db", "status"],
            new Dictionary<string, string> { ["ConnectionStrings__Elsewhere"] = database.ConnectionString });

        Assert.True(run.ExitCode == ExitCodes.Ok, run.Stderr);
        Assert.True(JsonDocument.Parse(run.Stdout).RootElement.GetProperty("running").GetBoolean());
        Assert.DoesNotContain("warning", run.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_dash_reads_the_connection_string_from_standard_input()
    {
        var run = await CliProcess.RunAsync(["--json", "--connection", "-", "db", "status"], standardInput: database.ConnectionString + "\n");

        Assert.True(run.ExitCode == ExitCodes.Ok, run.Stderr);
        Assert.True(JsonDocument.Parse(run.Stdout).RootElement.GetProperty("running").GetBoolean());
        Assert.DoesNotContain("warning", run.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_password_on_the_command_line_still_works_with_one_warning_on_stderr()
    {
        Assert.Contains("Password=", database.ConnectionString, StringComparison.OrdinalIgnoreCase);

        var run = await CliProcess.RunAsync(["--json", "--connection", database.ConnectionString, "db", "status"]);

        Assert.True(run.ExitCode == ExitCodes.Ok, run.Stderr);
        Assert.True(JsonDocument.Parse(run.Stdout).RootElement.GetProperty("running").GetBoolean());
        var warning = Assert.Single(run.Stderr.Split('\n'), l => l.Contains("warning", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("process list", warning, StringComparison.Ordinal);
        Assert.Contains("name:", warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--connection", "name:Missing", "db", "status")]
    [InlineData("reshard", "add", "name:Missing", "--name", "s9")]
    public async Task An_unknown_connection_name_is_bad_input_naming_the_variable_to_set(params string[] arguments)
    {
        var run = await CliProcess.RunAsync(arguments);

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("ConnectionStrings__Missing", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task Reshard_add_dash_with_empty_standard_input_is_bad_input()
    {
        var run = await CliProcess.RunAsync(["reshard", "add", "-"]);

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("standard input", run.Stderr, StringComparison.Ordinal);
    }
}
