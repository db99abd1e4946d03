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
        var httpTargets = new Option<string>("--http-targets")
        {
            Description = $"HTTP suite: only these targets, comma-separated ({string.Join(", ", HttpSuite.TargetShortNames)}; default all)",
            HelpName = "list",
        };
        httpTargets.Validators.Add(result => Validate(result, value => HttpSuite.ParseTargets(value)));
        var httpEndpoints = new Option<string>("--http-endpoints")
        {
            Description = $"HTTP suite: only these endpoints, comma-separated ({string.Join(", ", HttpEndpoints.ShortNames)}; default all; bare always runs, as every ratio's denominator)",
            HelpName = "list",
        };
        httpEndpoints.Validators.Add(result => Validate(result, value => HttpEndpoints.Parse(value)));
        var httpConnections = new Option<string>("--http-connections")
        {
            Description = "HTTP suite: only these connection counts, comma-separated (default 1,16,64,256; 1,16 with --quick), e.g. 64 for a narrow run of about a minute",
            HelpName = "list",
        };
        httpConnections.Validators.Add(result => Validate(result, value => ParseConnections(value)));
        var httpWarmup = new Option<double?>("--http-warmup")
        {
            Description = "HTTP suite: seconds each endpoint is warmed before a target's first level (default 0.6; 0.4 with --quick); a few seconds for a narrow run, so JIT tiering stays out of its figures",
            HelpName = "seconds",
        };
        httpWarmup.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is not (>= 0 and <= 120))
            {
                result.AddError("--http-warmup takes 0-120 seconds.");
            }
        });
        var command = new Command(
            "bench",
            "Measure Shards against a bare Orleans grain and pgbench on the same machine, in one run; print tables, write plots")
        {
            quick, output, suite, httpTargets, httpEndpoints, httpConnections, httpWarmup,
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
            if (parseResult.GetValue(httpTargets) is { } targets)
            {
                options = options with { HttpTargets = HttpSuite.ParseTargets(targets) };
                line += $" --http-targets {targets}";
            }

            if (parseResult.GetValue(httpEndpoints) is { } endpoints)
            {
                options = options with { HttpEndpointsToRun = HttpEndpoints.Parse(endpoints) };
                line += $" --http-endpoints {endpoints}";
            }

            if (parseResult.GetValue(httpConnections) is { } connections)
            {
                options = options with { HttpConnections = ParseConnections(connections) };
                line += $" --http-connections {connections}";
            }

            if (parseResult.GetValue(httpWarmup) is { } warmup)
            {
                options = options with { HttpTargetWarmup = TimeSpan.FromSeconds(warmup) };
                line += FormattableString.Invariant($" --http-warmup {warmup}");
            }

            using var stop = new StopSignals(ct);
            var results = await new BenchSuite(context, options, line).RunAsync(stop.Token);
            BenchReportText.Print(context.Output, results);
            context.Output.Document(results);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Connection counts such as <c>16,64</c>: each 1-4096, in the order given.</summary>
    internal static IReadOnlyList<int> ParseConnections(string list)
    {
        var counts = new List<int>();
        foreach (var item in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(item, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) || count is < 1 or > 4096)
            {
                throw new ArgumentException($"'{item}' is not a connection count (1-4096).", nameof(list));
            }

            counts.Add(count);
        }

        return counts.Count == 0 ? throw new ArgumentException("No connection count given.", nameof(list)) : counts;
    }

    private static void Validate(System.CommandLine.Parsing.OptionResult result, Action<string> parse)
    {
        try
        {
            parse(result.GetValueOrDefault<string>() ?? string.Empty);
        }
        catch (ArgumentException ex)
        {
            result.AddError(ex.Message.Split(" (Parameter", 2)[0]);
        }
    }
}
