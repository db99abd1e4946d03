using System.CommandLine;
using Shards.Cli.Commands;
using Shards.Cli.Core;

namespace Shards.Cli;

/// <summary>The <c>shards</c> command line: every subcommand, one parser.</summary>
public static class ShardsCli
{
    public static RootCommand Build()
    {
        var global = new GlobalOptions();
        var root = new RootCommand("shards: run, inspect and break a sharded Orleans store on PostgreSQL");
        global.AddTo(root);
        root.Subcommands.Add(DemoCommand.Create(global));
        root.Subcommands.Add(DbCommands.Create(global));
        root.Subcommands.Add(ClusterCommands.Create(global));
        root.Subcommands.Add(MembersCommand.Create(global));
        root.Subcommands.Add(TopCommand.Create(global));
        root.Subcommands.Add(StoreCommands.Product(global));
        root.Subcommands.Add(StoreCommands.Cart(global));
        root.Subcommands.Add(StoreCommands.Where(global));
        root.Subcommands.Add(StoreCommands.Seed(global));
        root.Subcommands.Add(OrderCommands.Checkout(global));
        root.Subcommands.Add(OrderCommands.Order(global));
        root.Subcommands.Add(EventsCommand.Create(global));
        root.Subcommands.Add(DistributionCommand.Create(global));
        root.Subcommands.Add(ShardsCommand.Create(global));
        root.Subcommands.Add(ReshardCommand.Create(global));
        root.Subcommands.Add(KillCommand.Create(global));
        root.Subcommands.Add(LoadCommand.Create(global));
        root.Subcommands.Add(BenchCommand.Create(global));
        root.Subcommands.Add(CompletionCommand.Create(global));
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = Build().Parse(Spelled(args));
        if (parsed.Errors.Count > 0 && !args.Any(a => a is "--help" or "-h" or "-?"))
        {
            // One line, no help page: what is wrong, and where the usage is; under --json also the error document.
            await Console.Error.WriteLineAsync(ParseErrorLine(parsed));
            new CliOutput(WantsJson(parsed)).Error(GlobalOptions.CommandPath(parsed), ParseErrors(parsed), ExitCodes.BadInput);
            return ExitCodes.BadInput;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(45) });
    }

    /// <summary>"shards cart add: Invalid SKU ... (usage: shards cart add --help)".</summary>
    public static string ParseErrorLine(ParseResult parsed)
    {
        var names = new List<string>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command is RootCommand ? "shards" : result.Command.Name);
        }

        var command = string.Join(' ', names);
        return $"{command}: {ParseErrors(parsed)} (usage: {command} --help)";
    }

    private static string ParseErrors(ParseResult parsed) =>
        string.Join(" ", parsed.Errors.Select(e => e.Message.ReplaceLineEndings(" ").Trim()).Distinct(StringComparer.Ordinal));

    /// <summary>Whether a command line that did not parse asked for JSON (<c>--json</c> wherever it stands).</summary>
    private static bool WantsJson(ParseResult parsed) =>
        parsed.Tokens.Any(t => t.Value == "--json");

    /// <summary>
    /// <c>shards shards ...</c> means <c>shards map ...</c> (a subcommand cannot be named like the root command), and
    /// <c>shards help [COMMAND ...]</c> means <c>shards [COMMAND ...] --help</c>: the first argument that is neither a global
    /// option nor its value is the command.
    /// </summary>
    public static string[] Spelled(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (GlobalOptions.OptionsWithValue.Contains(args[i]))
            {
                i++;
            }
            else if (!args[i].StartsWith('-'))
            {
                if (args[i] == HelpWord)
                {
                    return [.. Spelled([.. args[..i], .. args[(i + 1)..]]), "--help"];
                }

                return args[i] == ShardsCommand.Spelling ? [.. args[..i], ShardsCommand.Name, .. args[(i + 1)..]] : args;
            }
        }

        return args;
    }

    /// <summary><c>shards help load</c>: the help of the command after it.</summary>
    private const string HelpWord = "help";
}
