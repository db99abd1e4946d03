using System.CommandLine;
using Shards.Client.Bench;
using Shards.Client.Cli;

namespace Shards.Client.Commands;

/// <summary>The suites of <c>shards bench</c> that run on their own: <c>writes</c>, <c>failover</c>.</summary>
internal static class BenchSuiteCommands
{
    public static Command Writes(GlobalOptions global)
    {
        var quick = new Option<bool>("--quick") { Description = "One level (16 in flight), one round of 3 s" };
        var command = new Command(
            "writes",
            "Persisted writes three ways in one run: one transaction per write, group commit, and pgbench -N (same server, same connections)")
        {
            quick,
        };
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            using var stop = new StopSignals(ct);
            var line = "shards bench writes" + (parseResult.GetValue(quick) ? " --quick" : "");
            var results = await WriteModesSuite.RunAsync(
                context, Path.Combine(".shards", "bench-writes"), parseResult.GetValue(quick), line, stop.Token);
            WriteModesSuite.Print(context.Output, results);
            context.Output.Document(results);
            return ExitCodes.Ok;
        });
        return command;
    }
}
