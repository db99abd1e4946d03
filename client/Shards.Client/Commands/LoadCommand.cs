using System.CommandLine;
using System.CommandLine.Parsing;
using Shards.Client.Cli;
using Shards.Client.Launcher;
using Shards.Client.Load;

namespace Shards.Client.Commands;

/// <summary><c>shards load</c>: siege against the cluster, optionally with a silo killed or restarted mid-run.</summary>
internal static class LoadCommand
{
    public static Command Create(GlobalOptions global)
    {
        var concurrent = new Option<int>("--concurrent", "-c")
        {
            Description = $"Concurrent clients, each one request after the other (1-{LoadOptions.MaxConcurrency})",
            DefaultValueFactory = _ => 25,
        };
        var time = new Option<TimeSpan?>("--time", "-t")
        {
            Description = "How long to run: 30s, 2m, 1h or seconds (default 30s; or use -r)",
            CustomParser = ParseDuration,
            HelpName = "duration",
        };
        var reps = new Option<int?>("--reps", "-r") { Description = "Requests per client, instead of -t", HelpName = "count" };
        var keys = new Option<int>("--keys")
        {
            Description = $"Carts load-cart-00001.. to spread the requests over (1-{LoadOptions.MaxKeys})",
            DefaultValueFactory = _ => 1000,
        };
        var writes = new Option<int>("--writes")
        {
            Description = "Percentage of requests that add to a cart; the others read one",
            DefaultValueFactory = _ => 50,
            HelpName = "percent",
        };
        var chaos = new Option<ChaosMode>("--chaos")
        {
            Description = "kill: SIGKILL a random local silo mid-run; restart: SIGUSR2 to 'shards cluster up' (rolling restart); " +
                "pg-restart: stop the private PostgreSQL for --outage, then start it",
            DefaultValueFactory = _ => ChaosMode.None,
            CustomParser = ParseChaos,
            HelpName = ChaosModes.Spellings,
        };
        var outage = new Option<TimeSpan?>("--outage")
        {
            Description = $"How long --chaos pg-restart keeps PostgreSQL stopped (default {LoadDuration.Format(LoadOptions.DefaultOutage)})",
            CustomParser = ParseDuration,
            HelpName = "duration",
        };
        var http = new Option<string?>("--http")
        {
            Description = "Load the HTTP API at this URL (a silo's port, or nginx in front of all) instead of the Orleans client",
            HelpName = "url",
        };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = "API key for --http (default: SHARDS_API_KEY, else .shards/api-key written by 'shards cluster up')",
        };
        var chaosAt = new Option<TimeSpan?>("--chaos-at")
        {
            Description = "When the chaos strikes, after the start (default: the middle of the run)",
            CustomParser = ParseDuration,
            HelpName = "duration",
        };

        var command = new Command(
            "load",
            "Load test like siege (transactions, availability, response times, rate, per silo), with optional chaos; " +
            "then reads back every written cart: exits 5 if an acknowledged write was lost or one was applied twice")
        {
            concurrent, time, reps, keys, writes, chaos, chaosAt, outage, http, apiKey,
        };
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            var options = new LoadOptions
            {
                Concurrency = parseResult.GetValue(concurrent),
                Duration = parseResult.GetValue(time),
                RequestsPerClient = parseResult.GetValue(reps),
                Keys = parseResult.GetValue(keys),
                WritePercent = parseResult.GetValue(writes),
                Chaos = parseResult.GetValue(chaos),
                ChaosAt = parseResult.GetValue(chaosAt),
                Outage = parseResult.GetValue(outage),
            }.WithDefaults();
            var errors = options.Validate();
            if (errors.Count > 0)
            {
                throw new CliException(string.Join(" ", errors));
            }

            using var stop = new StopSignals(ct);
            using var target = await CreateTargetAsync(context, parseResult.GetValue(http), parseResult.GetValue(apiKey), options.Concurrency, stop.Token);
            var connectionString = await context.ResolveConnectionStringAsync(startPrivateServer: false, stop.Token);
            var (monkey, problem) = options.Chaos == ChaosMode.PgRestart
                ? await PostgresChaosAsync(context, options.EffectiveOutage!.Value, stop.Token)
                : await ChaosMonkey.ForAsync(options.Chaos, context.Cluster.ClusterId, connectionString, stop.Token);
            if (problem is not null)
            {
                throw new CliException(problem, ExitCodes.Unavailable);
            }

            var observer = new ConsoleLoadObserver();
            var runner = new LoadRunner(target.Target, options, monkey, observer);
            LoadReport report;
            try
            {
                report = await runner.RunAsync(stop.Token);
            }
            finally
            {
                observer.Finish();
            }

            context.Output.Line(LoadReportText.Format(report).TrimEnd('\n'));
            context.Output.Document(report);
            if (!report.Passed)
            {
                var check = report.WriteCheck;
                CliOutput.Status(
                    $"shards load: write check FAILED: {check.Lost} acknowledged write(s) lost, {check.Duplicated} applied twice" +
                    (check.CartsUnreadable > 0 ? $", {check.CartsUnreadable} cart(s) with writes could not be read back" : string.Empty) + ".");
            }

            return report.Passed ? ExitCodes.Ok : ExitCodes.CheckFailed;
        });
        return command;
    }

    /// <summary>The Orleans client path, or the HTTP API when <paramref name="http"/> is given.</summary>
    private static async Task<LoadTargetLease> CreateTargetAsync(
        CliContext context, string? http, string? apiKey, int concurrency, CancellationToken cancellationToken)
    {
        if (http is null)
        {
            return new LoadTargetLease(new OrleansLoadTarget(await context.ConnectAsync(cancellationToken)));
        }

        if (!Uri.TryCreate(http, UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
        {
            throw new CliException($"--http must be an absolute http(s) URL, e.g. http://127.0.0.1:8088 (got '{http}').");
        }

        var key = apiKey ?? Environment.GetEnvironmentVariable("SHARDS_API_KEY")
            ?? (File.Exists(LocalApiKey.DefaultPath) ? File.ReadAllText(LocalApiKey.DefaultPath).Trim() : null);
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new CliException("--http needs an API key: --api-key KEY, SHARDS_API_KEY, or .shards/api-key from 'shards cluster up'.");
        }

        var target = new HttpLoadTarget(baseAddress, key, concurrency);
        return new LoadTargetLease(target, target);
    }

    /// <summary>The pg-restart chaos: only on the private PostgreSQL that Shards manages (never on a configured server).</summary>
    private static async Task<(IChaos? Chaos, string? Problem)> PostgresChaosAsync(CliContext context, TimeSpan outage, CancellationToken cancellationToken)
    {
        if (context.ConfiguredConnectionString is not null)
        {
            return (null, "--chaos pg-restart stops and starts the private PostgreSQL that 'shards cluster up' / 'shards db start' manage; " +
                "this run is configured with another server (--connection or ConnectionStrings__Shards), which Shards does not stop.");
        }

        var (chaos, problem) = await PostgresRestartChaos.ForAsync(Shards.Hosting.Database.PrivatePostgresServer.Create(context.PrivatePostgres), outage, cancellationToken);
        return (chaos, problem);
    }

    private static ChaosMode ParseChaos(ArgumentResult result)
    {
        var text = result.Tokens.Single().Value;
        if (ChaosModes.Parse(text) is { } mode)
        {
            return mode;
        }

        result.AddError($"--chaos must be one of {ChaosModes.Spellings} (got '{text}').");
        return ChaosMode.None;
    }

    /// <summary>A load target and what to dispose when the run is over.</summary>
    private sealed record LoadTargetLease(ILoadTarget Target, IDisposable? Owned = null) : IDisposable
    {
        public void Dispose() => Owned?.Dispose();
    }

    private static TimeSpan? ParseDuration(ArgumentResult result)
    {
        try
        {
            return LoadDuration.Parse(result.Tokens.Single().Value);
        }
        catch (FormatException ex)
        {
            result.AddError(ex.Message);
            return null;
        }
    }
}
