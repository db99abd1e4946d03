using System.CommandLine;
using System.CommandLine.Parsing;
using Shards.Cli.Core;
using Shards.Load;
using Shards.LocalCluster;
using Shards.LocalCluster.Postgres;

namespace Shards.Cli.Commands;

/// <summary>
/// <c>shards load</c>: siege against the cluster, optionally with nemeses mid-run; every operation is recorded and the
/// history checked at the end.
/// </summary>
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
            Description = "Percentage of requests that write (add 1 to a cart, or upsert a product); the others read",
            DefaultValueFactory = _ => 50,
            HelpName = "percent",
        };
        var products = new Option<int>("--products")
        {
            Description = "Percentage of requests on products (upserts with unique names, reads) rather than carts, for the history's register check",
            DefaultValueFactory = _ => 10,
            HelpName = "percent",
        };
        var chaos = new Option<IReadOnlyList<ChaosMode>>("--chaos")
        {
            Description = "Nemeses, comma-separated, each striking once (spread over the middle half of the run) and healing itself: " +
                "kill (SIGKILL a random local silo; cluster up restarts it), freeze (SIGSTOP a silo for --freeze-for, then SIGCONT), " +
                "restart (rolling restart by 'shards cluster up'), pg-restart (stop the private PostgreSQL for --outage), " +
                "pg-stall (SIGSTOP all of the private PostgreSQL for --stall-for), hot (every client on one cart and product for --hot-for), " +
                "reshard (add a shard database, then remove it; the run goes on until both are done); with the --ha formation: " +
                "pg-failover (SIGKILL the primary node; started again after --outage), pg-switchover (planned switchover), " +
                "pg-standby-kill (SIGKILL the standby node; started again after --outage); on a 'cluster up --hosts N' cluster, " +
                "for --fault-for: partition (one silo's host cut from the other silos, not from PostgreSQL), isolate (cut from everything), " +
                "one-way (one silo's packets to another dropped, not back), loss (10 % of the packets between silos dropped), " +
                "flap (a partition that heals and breaks every 3 s), latency (every packet between silos held 100 ms ± 20 ms); see docs/partitions.md",
            DefaultValueFactory = _ => [],
            CustomParser = ParseChaos,
            Arity = ArgumentArity.ExactlyOne,
            HelpName = "kill,freeze,restart,pg-restart,pg-stall,hot,reshard,pg-failover,pg-switchover,pg-standby-kill,partition,isolate,one-way,loss,flap,latency",
        };
        var outage = new Option<TimeSpan?>("--outage")
        {
            Description = $"How long pg-restart keeps PostgreSQL stopped (default {LoadDuration.Format(LoadOptions.DefaultOutage)}), " +
                $"pg-failover and pg-standby-kill the killed node (default {LoadDuration.Format(LoadOptions.DefaultNodeDown)}; " +
                "a default length is cut to half the time left after the strike)",
            CustomParser = ParseDuration,
            HelpName = "duration",
        };
        var freezeFor = new Option<TimeSpan?>("--freeze-for")
        {
            Description = $"How long freeze keeps the silo stopped (default {LoadDuration.Format(LoadOptions.DefaultFreeze)}; cluster up SIGKILLs a silo stopped for 1 s unless --probes-only)",
            CustomParser = ParseDuration,
            HelpName = "duration",
        };
        var faultFor = new Option<TimeSpan?>("--fault-for")
        {
            Description = $"How long partition, isolate, one-way, loss, flap and latency keep their network fault (default {LoadDuration.Format(LoadOptions.DefaultFault)})",
            CustomParser = ParseDuration,
            HelpName = "duration",
        };
        var stallFor = new Option<TimeSpan?>("--stall-for")
        {
            Description = $"How long pg-stall keeps PostgreSQL stopped (default {LoadDuration.Format(LoadOptions.DefaultStall)})",
            CustomParser = ParseDuration,
            HelpName = "duration",
        };
        var hotFor = new Option<TimeSpan?>("--hot-for")
        {
            Description = $"How long hot keeps every client on one cart and product (default {LoadDuration.Format(LoadOptions.DefaultHot)})",
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
            Description = "When a single nemesis strikes, after the start (default: the middle of the run)",
            CustomParser = ParseDuration,
            HelpName = "duration",
        };

        var command = new Command(
            "load",
            "Load test like siege (transactions, availability, response times, rate, per silo), with optional nemeses; " +
            "records every operation, reads back every written cart and product, and checks the history (registers, counters): " +
            "exits 5 on a history violation, or if an acknowledged write was lost or one was applied twice")
        {
            concurrent, time, reps, keys, writes, products, chaos, chaosAt, outage, freezeFor, faultFor, stallFor, hotFor, http, apiKey,
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
                ProductPercent = parseResult.GetValue(products),
                Chaos = parseResult.GetValue(chaos) ?? [],
                ChaosAt = parseResult.GetValue(chaosAt),
                Outage = parseResult.GetValue(outage),
                FreezeFor = parseResult.GetValue(freezeFor),
                FaultFor = parseResult.GetValue(faultFor),
                StallFor = parseResult.GetValue(stallFor),
                HotFor = parseResult.GetValue(hotFor),
            }.WithDefaults();
            var errors = options.Validate();
            if (errors.Count > 0)
            {
                throw new CliException(string.Join(" ", errors));
            }

            if (context.ConfiguredConnectionString is not null &&
                options.Chaos.Where(m => m is ChaosMode.PgRestart or ChaosMode.PgStall or ChaosMode.PgFailover or ChaosMode.PgSwitchover or ChaosMode.PgStandbyKill).Select(m => (ChaosMode?)m).FirstOrDefault() is { } pg)
            {
                throw new CliException(PrivatePostgresOnly(pg));
            }

            using var stop = new StopSignals(ct);
            using var target = await CreateTargetAsync(context, parseResult.GetValue(http), parseResult.GetValue(apiKey), options.Concurrency, stop.Token);
            var connectionString = await context.ResolveConnectionStringAsync(startPrivateServer: false, stop.Token);
            var nemeses = await NemesesAsync(context, options, connectionString, stop.Token);
            var observer = new ConsoleLoadObserver();
            var runner = new LoadRunner(target.Target, options, nemeses, observer);
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
            var check = report.WriteCheck;
            if (!check.Passed)
            {
                CliOutput.Status(
                    $"shards load: write check FAILED: {check.Lost} acknowledged write(s) lost, {check.Duplicated} applied twice" +
                    (check.CartsUnreadable > 0 ? $", {check.CartsUnreadable} cart(s) with writes could not be read back" : string.Empty) + ".");
            }

            if (report.History is { Passed: false } history)
            {
                CliOutput.Status(
                    $"shards load: history check FAILED: {history.ViolationCount} violation(s): " +
                    string.Join(", ", history.Checkers.SelectMany(c => c.ByRule.Select(r => $"{c.Checker} {r.Key} {r.Value}"))) + ".");
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

    /// <summary>
    /// Each nemesis of the run, after checking that it can strike (silos to spare, a launcher, the private PostgreSQL, a
    /// shard map); every problem in one error. <see cref="ChaosMode.Hot"/> is the runner's own. One silo nemesis watches
    /// the silos for the run's events.
    /// </summary>
    private static async Task<Dictionary<ChaosMode, IChaos>> NemesesAsync(CliContext context, LoadOptions options, string connectionString, CancellationToken cancellationToken)
    {
        var nemeses = new Dictionary<ChaosMode, IChaos>();
        var problems = new List<string>();
        var watching = false;
        foreach (var mode in options.Chaos)
        {
            IChaos? chaos = null;
            string? problem = null;
            switch (mode)
            {
                case ChaosMode.Kill or ChaosMode.Freeze or ChaosMode.Restart:
                    (chaos, problem) = await ChaosMonkey.ForAsync(
                        mode, context.Cluster.ClusterId, context.DataSources.For(connectionString), cancellationToken, options.LengthOf(ChaosMode.Freeze), watchSilos: !watching);
                    watching |= chaos is not null;
                    break;
                case ChaosMode.PgRestart or ChaosMode.PgStall when context.ConfiguredConnectionString is not null:
                    problem = PrivatePostgresOnly(mode);
                    break;
                case ChaosMode.PgRestart:
                    (chaos, problem) = await PostgresRestartChaos.ForAsync(PrivateServer(context), options.EffectiveOutage!.Value, cancellationToken);
                    break;
                case ChaosMode.PgStall:
                    (chaos, problem) = await PostgresStallChaos.ForAsync(PrivateServer(context), options.LengthOf(ChaosMode.PgStall)!.Value, cancellationToken);
                    break;
                case ChaosMode.PgFailover or ChaosMode.PgSwitchover or ChaosMode.PgStandbyKill when context.ConfiguredConnectionString is not null:
                    problem = PrivatePostgresOnly(mode);
                    break;
                case ChaosMode.PgFailover or ChaosMode.PgSwitchover or ChaosMode.PgStandbyKill:
                    (chaos, problem) = await PostgresFailoverChaos.ForAsync(
                        context.HaFormationIfCreated(), mode, options.LengthOf(mode) ?? LoadOptions.DefaultNodeDown, cancellationToken);
                    break;
                case ChaosMode.Reshard:
                    (chaos, problem) = await ReshardChaos.ForAsync(context, connectionString, cancellationToken);
                    break;
                case var network when ChaosModes.Network.Contains(network):
                    (chaos, problem) = await NetworkChaos.ForAsync(
                        mode, context.Cluster.ClusterId, context.DataSources.For(connectionString), options.LengthOf(mode)!.Value, cancellationToken);
                    break;
            }

            if (problem is not null)
            {
                problems.Add(problem);
            }
            else if (chaos is not null)
            {
                nemeses[mode] = chaos;
            }
        }

        return problems.Count == 0 ? nemeses : throw new CliException(string.Join(" ", problems), ExitCodes.Unavailable);
    }

    private static PrivatePostgresServer PrivateServer(CliContext context) => PrivatePostgresServer.Create(context.PrivatePostgres);

    private static string PrivatePostgresOnly(ChaosMode mode) =>
        $"--chaos {ChaosModes.Name(mode)} stops the private PostgreSQL that 'shards cluster up' / 'shards db start' manage; " +
        "this run is configured with another server (--connection or ConnectionStrings__Shards), which Shards does not stop.";

    private static IReadOnlyList<ChaosMode> ParseChaos(ArgumentResult result)
    {
        var (modes, errors) = ChaosModes.ParseList(result.Tokens.Single().Value);
        foreach (var error in errors)
        {
            result.AddError(error);
        }

        return modes;
    }

    /// <summary>A load target and what to dispose when the run is over.</summary>
    private sealed record LoadTargetLease(ILoadTarget Target, IDisposable? Owned = null) : IDisposable
    {
        public void Dispose() => Owned?.Dispose();
    }

    internal static TimeSpan? ParseDuration(ArgumentResult result)
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
