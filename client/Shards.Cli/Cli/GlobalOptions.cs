using System.CommandLine;
using Microsoft.Extensions.Options;
using Npgsql;
using Shards.Cli.Core;
using Shards.Contracts.Common;
using Shards.Postgres;

namespace Shards.Cli;

/// <summary>Options every command accepts, and the one place that turns failures into messages and exit codes.</summary>
public sealed class GlobalOptions
{
    public Option<bool> Json { get; } = new("--json") { Description = "Print one JSON document on stdout (for scripts)", Recursive = true };

    /// <summary>Global options followed by a value (for <see cref="ShardsCli.Spelled"/>).</summary>
    public static readonly IReadOnlySet<string> OptionsWithValue = new HashSet<string>(StringComparer.Ordinal) { "--connection", "--cluster-id" };

    public Option<string?> Connection { get; } = new("--connection")
    {
        Description = "PostgreSQL connection string; name:NAME reads ConnectionStrings__NAME, - reads it from stdin, so that no password shows in the process list " +
            "(default: ConnectionStrings__Shards, else the private server of 'shards db start')",
        Recursive = true,
    };

    public Option<string?> ClusterId { get; } = new("--cluster-id") { Description = "Cluster to talk to (default: shards)", Recursive = true };

    public void AddTo(RootCommand root)
    {
        root.Options.Add(Json);
        root.Options.Add(Connection);
        root.Options.Add(ClusterId);
    }

    /// <summary>Sets <paramref name="command"/>'s action: build a context, run, report errors as one line.</summary>
    public void SetAction(Command command, Func<ParseResult, CliContext, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            CliContext? context = null;
            try
            {
                // Inside the try: settings that fail their validators are a clear error, not a stack trace.
                context = new CliContext(parseResult.GetValue(Json), connection: null, parseResult.GetValue(ClusterId));
                context.UseConnectionArgument(parseResult.GetValue(Connection));
                return await action(parseResult, context, cancellationToken);
            }
            catch (Exception ex)
            {
                var (message, exitCode) = Describe(ex, cancellationToken);
                var command = CommandPath(parseResult);
                await Console.Error.WriteLineAsync($"{command}: {message}");
                (context?.Output ?? new CliOutput(parseResult.GetValue(Json))).Error(command, message, exitCode, (ex as CliException)?.Details);
                return exitCode;
            }
            finally
            {
                if (context is not null)
                {
                    await context.DisposeAsync();
                }
            }
        });

    /// <summary>"shards cart add", for error lines.</summary>
    internal static string CommandPath(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command is RootCommand ? "shards" : result.Command.Name);
        }

        return string.Join(' ', names);
    }

    internal static (string Message, int ExitCode) Describe(Exception exception, CancellationToken cancellationToken) =>
        (ShardsFailures.Find(exception) ?? exception) switch
        {
            CliException cli => (cli.Message, cli.ExitCode),
            Shards.Domain.DomainRuleException rule => (rule.Message, ExitCodes.BadInput),
            ShardsException { Code: ShardsErrorCode.NotFound } shards => (shards.Message, ExitCodes.NotFound),
            ShardsException { Code: ShardsErrorCode.StorageUnavailable or ShardsErrorCode.SiloCutOff } shards => (shards.Message, ExitCodes.Unavailable),
            ShardsException shards => (shards.Message, ExitCodes.BadInput),
            PostgresNotAvailableException postgres => (postgres.Message, ExitCodes.Unavailable),
            Shards.LocalCluster.UnsafeSecretFileException secret => (secret.Message, ExitCodes.BadInput),
            OptionsValidationException settings => ($"bad settings: {settings.Message}", ExitCodes.BadInput),
            NpgsqlException npgsql => ($"PostgreSQL error: {npgsql.Message}", ExitCodes.Unavailable),
            OperationCanceledException when cancellationToken.IsCancellationRequested => ("cancelled", ExitCodes.Cancelled),
            var other when ShardsFailures.IsTransient(other) => ($"the cluster did not answer ({exception.GetType().Name}: {exception.Message})", ExitCodes.Unavailable),
            _ => ($"unexpected error: {exception.GetType().Name}: {exception.Message}", ExitCodes.Unexpected),
        };
}
