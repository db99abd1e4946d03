using System.Text.Json;
using Shards.Cli.Core;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Client;

/// <summary>
/// Under <c>--json</c> a failed command prints one JSON error document on stdout (code, message, exit code, command),
/// whether the command line did not parse or the command failed; the one line for people stays on stderr.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class CliJsonErrorTests
{
    private static readonly Dictionary<string, string> s_noPostgres = new()
    {
        ["Shards__Postgres__Directory"] = Path.Combine(Path.GetTempPath(), $"shards-cli-json-none-{Guid.NewGuid():N}"),
    };

    [Theory]
    [InlineData("product get 1001 --json", ExitCodes.BadInput, "bad-input", "shards product get")]
    [InlineData("--json cart add cart-1 sku-1 -1", ExitCodes.BadInput, "bad-input", "shards cart add")]
    [InlineData("bogus --json", ExitCodes.BadInput, "bad-input", "shards")]
    [InlineData("product get sku-1 --json", ExitCodes.Unavailable, "unavailable", "shards product get")]
    [InlineData("members --json", ExitCodes.Unavailable, "unavailable", "shards members")]
    [InlineData("cluster down --json", ExitCodes.NotFound, "not-found", "shards cluster down")]
    public async Task A_failed_command_under_json_prints_one_error_document_on_stdout(string commandLine, int exitCode, string code, string command)
    {
        var run = await CliProcess.RunAsync(commandLine.Split(' '), s_noPostgres);

        Assert.Equal(exitCode, run.ExitCode);
        var error = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("error"); // exactly one document: Parse refuses more
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(exitCode, error.GetProperty("exitCode").GetInt32());
        Assert.Equal(command, error.GetProperty("command").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.StartsWith(command, run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_json_an_error_prints_nothing_on_stdout()
    {
        var run = await CliProcess.RunAsync(["product", "get", "sku-1"], s_noPostgres);

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.Empty(run.Stdout.Trim());
    }
}
