using System.CommandLine;
using Shards.Bench;
using Shards.Cli.Core;

namespace Shards.Cli.Commands;

/// <summary>The suites of <c>shards bench</c> that run on their own: <c>writes</c>, <c>failover</c>.</summary>
internal static class BenchSuiteCommands
{
    public static Command Writes(GlobalOptions global)
    {
        var quick = new Option<bool>("--quick") { Description = "One level (16 in flight), one round of 3 s" };
        var ha = new Option<bool>("--ha")
        {
            Description = "Instead: the cost of synchronous replication, Shards and pgbench -N on one server and on a pg_auto_failover formation (primary + synchronous standby), side by side",
        };
        var command = new Command(
            "writes",
            "Persisted writes three ways in one run: one transaction per write, group commit, and pgbench -N (same server, same connections)")
        {
            quick, ha,
        };
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            using var stop = new StopSignals(ct);
            var line = "shards bench writes" + (parseResult.GetValue(ha) ? " --ha" : "") + (parseResult.GetValue(quick) ? " --quick" : "");
            if (parseResult.GetValue(ha))
            {
                var haResults = await HaWriteSuite.RunAsync(context, Path.Combine(".shards", "bench-writes-ha"), parseResult.GetValue(quick), line, stop.Token);
                HaWriteSuite.Print(context.Output, haResults);
                context.Output.Document(haResults);
                return ExitCodes.Ok;
            }

            var results = await WriteModesSuite.RunAsync(
                context, Path.Combine(".shards", "bench-writes"), parseResult.GetValue(quick), line, stop.Token);
            WriteModesSuite.Print(context.Output, results);
            context.Output.Document(results);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Failover(GlobalOptions global)
    {
        var kills = new Option<int>("--kills") { Description = "SIGKILLs per mode (launcher's help, probes only, launcher's help without the client's resend); at least 1", DefaultValueFactory = _ => 10 };
        var freezes = new Option<int>("--freezes") { Description = "SIGSTOPs (probes only); 0 for none", DefaultValueFactory = _ => 3 };
        var noRolling = new Option<bool>("--no-rolling") { Description = "Skip the rolling restart run" };
        var output = new Option<string>("--out")
        {
            Description = "Folder whose bench/ subfolder gets the PNG plots (default: .shards)",
            DefaultValueFactory = _ => ".shards",
            HelpName = "folder",
        };
        var command = new Command(
            "failover",
            "SIGKILL a silo under load many times, with and without the launcher's help; a rolling restart under load; recovery distribution and plots")
        {
            kills, freezes, noRolling, output,
        };
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            var count = parseResult.GetValue(kills);
            if (count is < 1 or > 100)
            {
                throw new CliException($"--kills must be between 1 and 100 (got {count}).");
            }

            var freezeCount = parseResult.GetValue(freezes);
            if (freezeCount is < 0 or > 20)
            {
                throw new CliException($"--freezes must be between 0 and 20 (got {freezeCount}).");
            }

            using var stop = new StopSignals(ct);
            var line = $"shards bench failover --kills {count} --freezes {freezeCount}" + (parseResult.GetValue(noRolling) ? " --no-rolling" : "")
                + (parseResult.GetValue(output) is ".shards" ? "" : $" --out {parseResult.GetValue(output)}");
            var results = await FailoverSuite.RunAsync(
                context, Path.Combine(".shards", "bench-failover"), count, freezeCount, !parseResult.GetValue(noRolling),
                Path.Combine(parseResult.GetValue(output)!, "bench"), line, stop.Token);
            FailoverSuite.Print(context.Output, results);
            context.Output.Document(results);
            return ExitCodes.Ok;
        });
        return command;
    }
}
