using System.CommandLine;
using Shards.Cli.Core;

namespace Shards.Cli.Commands;

/// <summary>
/// <c>shards completion bash|zsh</c>: prints a shell script that completes <c>shards</c> commands and options by asking
/// the CLI itself through System.CommandLine's <c>[suggest:POSITION]</c> directive.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create(GlobalOptions global)
    {
        var shell = new Argument<string>("shell") { Description = "The shell to print the script for: bash or zsh" };
        shell.AcceptOnlyFromAmong(CompletionScripts.Shells.ToArray());
        var command = new Command(
            "completion",
            "Print a tab-completion script for bash or zsh: eval \"$(shards completion bash)\" in ~/.bashrc, or the zsh one in ~/.zshrc after compinit")
        {
            shell,
        };
        global.SetAction(command, (parseResult, context, ct) =>
        {
            Console.Write(CompletionScripts.For(parseResult.GetValue(shell)!, CompletionScripts.ThisProgram()));
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
