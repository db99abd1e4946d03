using System.Text.Json.Serialization;

namespace Shards.Cli.Core;

/// <summary>
/// The JSON document of a failed command run with <c>--json</c>, printed on stdout as the run's one document:
/// <c>{"error": {"code": "not-found", "message": "...", "exitCode": 3, "command": "shards product get"}}</c>, with
/// <c>details</c> when the command has more to say. The exit code is the same as without <c>--json</c>.
/// </summary>
public static class CliError
{
    public static CliErrorDocument Document(string command, string message, int exitCode, object? details = null) =>
        new(new CliErrorBody(ExitCodes.Code(exitCode), message, exitCode, command, details));
}

/// <summary>The root of the error document: one <c>error</c> property.</summary>
public sealed record CliErrorDocument(CliErrorBody Error);

/// <summary>What went wrong: a stable code (from the exit code), the message people read, the exit code and the command.</summary>
public sealed record CliErrorBody(
    string Code,
    string Message,
    int ExitCode,
    string Command,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] object? Details);
