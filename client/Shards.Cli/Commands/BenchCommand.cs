using System.CommandLine;
using Shards.Bench;
using Shards.Cli.Core;

namespace Shards.Cli.Commands;

/// <summary><c>shards bench</c>: Shards side by side with bare Orleans and pgbench, in one run, on this machine.</summary>
internal static class BenchCommand
{
    public static Command Create(GlobalOptions global)
    {
        var quick = new Option<bool>("--quick") { Description = "Smoke run of a few minutes: 1 silo (2 for HTTP), short runs, fewer levels (CI)" };
        var output = new Option<string>("--out")
        {
            Description = "Folder whose bench/ subfolder gets the PNG plots and results.json (default: .shards)",
            DefaultValueFactory = _ => ".shards",
            HelpName = "folder",
        };
        var suite = new Option<string>("--suite")
        {
            Description = "What to run: all (default), calls (call path, writes vs pgbench, memory), placement (spread and churn), shard-writes (writes with 1, 2, 4 shard databases), scaling (reads and memory by key space and silo count), http (the HTTP path: direct, spread, through nginx)",
            DefaultValueFactory = _ => BenchSuiteNames.All,
            HelpName = "part",
        };
        suite.AcceptOnlyFromAmong([.. BenchSuiteNames.Names]);
        var command = new Command(
            "bench",
            "Measure Shards against a bare Orleans grain and pgbench on the same machine, in one run; print tables, write plots")
        {
            quick, output, suite,
        };
        command.Subcommands.Add(BenchSuiteCommands.Writes(global));
        command.Subcommands.Add(BenchSuiteCommands.Failover(global));
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            var directory = Path.Combine(parseResult.GetValue(output)!, "bench");
            var options = (parseResult.GetValue(quick) ? BenchOptions.QuickRun(directory) : BenchOptions.Full(directory)) with
            {
                Parts = BenchSuiteNames.Parts(parseResult.GetValue(suite)!),
            };
            var line = "shards bench" + (options.Quick ? " --quick" : "") + (parseResult.GetValue(output) is ".shards" ? "" : $" --out {parseResult.GetValue(output)}")
                + (parseResult.GetValue(suite) is BenchSuiteNames.All ? "" : $" --suite {parseResult.GetValue(suite)}");
            using var stop = new StopSignals(ct);
            var results = await new BenchSuite(context, options, line).RunAsync(stop.Token);
            BenchReportText.Print(context.Output, results);
            context.Output.Document(results);
            return ExitCodes.Ok;
        });
        return command;
    }
}
