using System.Diagnostics;
using Shards.Cli.Core;
using Shards.Load;
using Shards.LocalCluster;
using Shards.Postgres;

namespace Shards.Bench;

/// <summary>One SIGKILL under load: what callers saw.</summary>
/// <param name="InFlightMaxSeconds">From the kill to the answer of the slowest call that was in flight to the killed silo's carts.</param>
/// <param name="AllCartsSeconds">From the kill until the last of the killed silo's carts answered a read sent right after the kill.</param>
/// <param name="Failures">What the failed calls failed with (kind, count, one message), as <c>shards load</c> reports it.</param>
public sealed record KillSample(
    string Mode, int Kill, string Silo, int Carts, int Callers, double? InFlightMedianSeconds, double? InFlightMaxSeconds,
    double? AllCartsSeconds, long Ok, long Failed, double Availability, long Lost, long Duplicated, IReadOnlyList<FailureKind> Failures);

/// <summary>Median, p90 and max over the kills of one mode.</summary>
public sealed record RecoveryDistribution(string Mode, string Measure, int Kills, double? MedianSeconds, double? P90Seconds, double? MaxSeconds);

/// <summary>Throughput around one event, in 100 ms buckets: seconds from the event, calls answered per second.</summary>
public sealed record ThroughputSeries(string Label, IReadOnlyList<double> Seconds, IReadOnlyList<double> OkPerSecond, IReadOnlyList<double> FailedPerSecond);

/// <summary>The rolling restart of every silo under load.</summary>
public sealed record RollingRestartSample(
    double RestartSeconds, long Ok, long Failed, double Availability, double? P99Ms, double? LongestMs, long Lost, long Duplicated);

/// <summary>One SIGSTOP under load: when the membership table said Dead, and what callers saw.</summary>
public sealed record FreezeSample(
    string Mode, int Freeze, string Silo, double? EvictedAfterSeconds, int Callers, double? InFlightMaxSeconds, long Failed, double Availability,
    IReadOnlyList<FailureKind>? Failures = null);

public sealed record FailoverResults(
    DateTimeOffset StartedAt, string Command, BenchMachine Machine, int Concurrency, int Keys,
    IReadOnlyList<KillSample> Kills, IReadOnlyList<RecoveryDistribution> Distributions, RollingRestartSample? Rolling,
    IReadOnlyList<FreezeSample> Freezes, IReadOnlyList<ThroughputSeries> Series, IReadOnlyList<string> Plots);

/// <summary>
/// <c>shards bench failover</c>: SIGKILLs under <c>shards load</c>'s workload, many times, with the launcher's help (it
/// sees the process exit and declares the silo dead at once) and without it (Orleans' probes alone), on 3 silos; then
/// one full rolling restart under the same load; then the kills again with the launcher's help but without the client's
/// resend on gateway loss (<see cref="Shards.Client.ShardsClientOptions.ResendOnGatewayLoss"/>), to show what it
/// saves. Every run reads back every written cart (lost and duplicated writes).
/// Bounded: each kill is one short load run; the killed silo is replaced by a new one before the next kill.
/// </summary>
public static class FailoverSuite
{
    private const int Silos = 3;

    /// <summary>From a replacement silo's start to the next kill: the home rebalancer's first pass is done by then.</summary>
    private static readonly TimeSpan s_settle = TimeSpan.FromSeconds(4);
    private const int Concurrency = 50;

    /// <summary>Few keys, so that every key of the killed silo is called within a few ms of its recovery.</summary>
    private const int Keys = 200;

    public static async Task<FailoverResults> RunAsync(
        CliContext context, string workDirectory, int kills, int freezes, bool rolling, string outputDirectory, string command,
        CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        await using var environment = await BenchEnvironment.StartAsync(context, workDirectory, "bench failover", cancellationToken);
        var samples = new List<KillSample>();
        var series = new List<ThroughputSeries>();
        RollingRestartSample? rollingSample = null;
        var freezeSamples = new List<FreezeSample>();
        // The third mode turns off the client's resend on gateway loss, to show in the same run what it saves.
        foreach (var (mode, clusterId, declareDead, resend) in new[]
        {
            ("launcher", "failover-launcher", true, true), ("probes only", "failover-probes", false, true), ("launcher, no resend", "failover-noresend", true, false),
        })
        {
            await using var launcher = environment.Launcher(Silos, clusterId, "bench failover", declareCrashedSilosDead: declareDead);
            CliOutput.Status($"bench failover: {mode}: starting {Silos} silos ...");
            await launcher.StartAsync(cancellationToken);
            await using var client = new CliContext(true, environment.ConnectionString, clusterId, context.DataSources);
            client.ClientOptions.ResendOnGatewayLoss = resend;
            var target = new TimedLoadTarget(new OrleansLoadTarget(await client.ConnectAsync(cancellationToken)));
            if (rolling && declareDead && resend)
            {
                rollingSample = await RollingRestartAsync(launcher, target, series, cancellationToken);
            }

            for (var kill = 1; kill <= kills; kill++)
            {
                var chaos = new KillChaos(launcher, target);
                var report = await new LoadRunner(target, Options(ChaosMode.Kill, TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(2)), chaos)
                    .RunAsync(cancellationToken);
                var recovery = report.Chaos?.Recovery;
                var everyKey = await chaos.EveryKeyAnswered;
                samples.Add(new KillSample(
                    mode, kill, recovery?.Silo ?? "-", recovery?.Carts ?? 0, recovery?.Callers ?? 0, recovery?.MedianSeconds, recovery?.MaxSeconds,
                    everyKey, report.SuccessfulTransactions, report.FailedTransactions, report.Availability, report.WriteCheck.Lost, report.WriteCheck.Duplicated,
                    report.Failures));
                CliOutput.Status(
                    $"bench failover: {mode}, kill {kill}/{kills}: {recovery?.Silo} ({recovery?.Carts} carts): in-flight callers {recovery?.Callers}, " +
                    $"slowest {Seconds(recovery?.MaxSeconds)}, every cart answering after {Seconds(everyKey)}; " +
                    $"availability {report.Availability:0.00} %, lost {report.WriteCheck.Lost}, duplicated {report.WriteCheck.Duplicated}");
                if (kill == 1 && chaos.StruckAt is { } struck)
                {
                    series.Add(target.Around($"SIGKILL, {mode}", struck, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)));
                }

                // The next kill finds 3 live settled silos again: a new one replaces the dead one, and the home rebalancer
                // moves its keys to it ~1-2 s after it joined. A kill in the middle of those migrations took 1-2 s to
                // recover (an activation migrating to the killed silo), so the next kill waits until they are done.
                await launcher.StartAdditionalSiloAsync(cancellationToken);
                await Task.Delay(s_settle, cancellationToken);
            }

            for (var freeze = 1; freeze <= (resend ? freezes : 0); freeze++)
            {
                freezeSamples.Add(await FreezeAsync(mode, freeze, freezes, launcher, target, new MembershipTableReader(context.DataSources.For(environment.ConnectionString)), clusterId, series, cancellationToken));
                await launcher.StartAdditionalSiloAsync(cancellationToken);
                await Task.Delay(s_settle, cancellationToken);
            }
        }

        var distributions = new List<RecoveryDistribution>();
        foreach (var mode in samples.Select(s => s.Mode).Distinct())
        {
            var ofMode = samples.Where(s => s.Mode == mode).ToList();
            distributions.Add(Distribution(mode, "slowest in-flight caller", ofMode.Select(s => s.InFlightMaxSeconds)));
            distributions.Add(Distribution(mode, "every cart answering", ofMode.Select(s => s.AllCartsSeconds)));
        }

        var results = new FailoverResults(
            startedAt, command, environment.Machine, Concurrency, Keys, samples, distributions, rollingSample, freezeSamples, series, []);
        return results with { Plots = FailoverPlotter.Write(results, outputDirectory) };
    }

    /// <summary>One silo frozen (SIGSTOP) under load, until the membership table says Dead; then SIGKILLed.</summary>
    private static async Task<FreezeSample> FreezeAsync(
        string mode, int freeze, int freezes, ClusterLauncher launcher, TimedLoadTarget target, MembershipTableReader membership, string clusterId,
        List<ThroughputSeries> series, CancellationToken cancellationToken)
    {
        var chaos = new FreezeChaos(launcher, target, membership, clusterId, Keys);
        try
        {
            var report = await new LoadRunner(target, Options(ChaosMode.Kill, TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(2)), chaos)
                .RunAsync(cancellationToken);
            var recovery = report.Chaos?.Recovery;
            CliOutput.Status(
                $"bench failover: {mode}, freeze {freeze}/{freezes}: {recovery?.Silo} declared dead {Seconds(chaos.EvictedAfterSeconds)} s after SIGSTOP; " +
                $"in-flight callers {recovery?.Callers}, slowest {Seconds(recovery?.MaxSeconds)}; {report.FailedTransactions} failed" +
                string.Concat(report.Failures.Select(f => $"; {f.Count} with {f.Kind}: \"{f.Example}\"")));
            if (freeze == 1 && chaos.StruckAt is { } struck)
            {
                series.Add(target.Around($"SIGSTOP, {mode}", struck, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(8)));
            }

            return new FreezeSample(
                mode, freeze, recovery?.Silo ?? "-", chaos.EvictedAfterSeconds, recovery?.Callers ?? 0, recovery?.MaxSeconds, report.FailedTransactions,
                report.Availability, report.Failures);
        }
        finally
        {
            chaos.Release();
        }
    }

    /// <summary>Every silo replaced, one at a time, while the load runs (3 silos, none killed yet).</summary>
    private static async Task<RollingRestartSample> RollingRestartAsync(
        ClusterLauncher launcher, TimedLoadTarget target, List<ThroughputSeries> series, CancellationToken cancellationToken)
    {
        var restart = new RollingRestartChaos(launcher, cancellationToken);
        var report = await new LoadRunner(target, Options(ChaosMode.Restart, TimeSpan.FromSeconds(75), TimeSpan.FromSeconds(3)), restart)
            .RunAsync(cancellationToken);
        await restart.Finished;
        if (restart.StruckAt is { } struck)
        {
            series.Add(target.Around("rolling restart of 3 silos", struck, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(restart.Seconds + 2)));
        }

        CliOutput.Status($"bench failover: rolling restart in {restart.Seconds:0.0} s: {report.FailedTransactions} failed, p99 {report.ResponseTime?.P99Ms:0.0} ms");
        return new RollingRestartSample(
            restart.Seconds, report.SuccessfulTransactions, report.FailedTransactions, report.Availability, report.ResponseTime?.P99Ms,
            report.ResponseTime?.LongestMs, report.WriteCheck.Lost, report.WriteCheck.Duplicated);
    }

    public static void Print(CliOutput output, FailoverResults results)
    {
        var m = results.Machine;
        output.Line($"Machine: {m.Cores} cores, {m.MemoryGb:0.0} GB, PostgreSQL {m.PostgresVersion}, Orleans {m.OrleansVersion}; load average {m.LoadAverageAtStart} at the start");
        output.Line($"Command: {results.Command}   (3 silos; shards load's workload: {results.Concurrency} clients, {results.Keys} carts, 50 % writes; one SIGKILL per 7 s run)");
        output.Line();
        output.Line("Kill-to-recovery over the kills (target: median under 1 s with the launcher's help, under 5 s with probes only)");
        output.Table(
            ["MODE", "MEASURE", "KILLS", "MEDIAN S", "P90 S", "MAX S"],
            results.Distributions.Select(d => (IReadOnlyList<string>)
                [d.Mode, d.Measure, $"{d.Kills}", Seconds(d.MedianSeconds), Seconds(d.P90Seconds), Seconds(d.MaxSeconds)]));
        output.Line();
        foreach (var mode in results.Kills.Select(k => k.Mode).Distinct())
        {
            var kills = results.Kills.Where(k => k.Mode == mode).ToList();
            var ok = kills.Sum(k => k.Ok);
            var failed = kills.Sum(k => k.Failed);
            output.Line(
                $"{mode}: availability {(ok + failed == 0 ? 0 : 100.0 * ok / (ok + failed)):0.000} % over {kills.Count} kill runs " +
                $"({ok:N0} ok, {failed:N0} failed); lost {kills.Sum(k => k.Lost)}, duplicated {kills.Sum(k => k.Duplicated)}");
            foreach (var kind in kills.SelectMany(k => k.Failures).GroupBy(f => f.Kind))
            {
                output.Line($"  failed with {kind.Key}: {kind.Sum(f => f.Count)}, e.g. \"{kind.First().Example}\"");
            }
        }

        output.Line();
        output.Table(
            ["MODE", "KILL", "SILO", "CARTS", "IN-FLIGHT CALLERS", "MEDIAN WAIT S", "SLOWEST S", "EVERY CART S", "FAILED", "LOST", "DUPLICATED"],
            results.Kills.Select(k => (IReadOnlyList<string>)
            [
                k.Mode, $"{k.Kill}", k.Silo, $"{k.Carts}", $"{k.Callers}", Seconds(k.InFlightMedianSeconds), Seconds(k.InFlightMaxSeconds),
                Seconds(k.AllCartsSeconds), $"{k.Failed}", $"{k.Lost}", $"{k.Duplicated}",
            ]));
        if (results.Freezes.Count > 0)
        {
            output.Line();
            output.Line("Frozen silo (SIGSTOP) under the same load; with the launcher's help it SIGKILLs a silo stopped for 1 s (target: declared dead in under 5 s)");
            output.Table(
                ["MODE", "FREEZE", "SILO", "DECLARED DEAD AFTER S", "IN-FLIGHT CALLERS", "SLOWEST S", "FAILED", "AVAILABILITY"],
                results.Freezes.Select(f => (IReadOnlyList<string>)
                [
                    f.Mode, $"{f.Freeze}", f.Silo, Seconds(f.EvictedAfterSeconds), $"{f.Callers}", Seconds(f.InFlightMaxSeconds), $"{f.Failed}", $"{f.Availability:0.000} %",
                ]));
            foreach (var kind in results.Freezes.SelectMany(f => f.Failures ?? []).GroupBy(f => f.Kind))
            {
                output.Line($"  failed with {kind.Key}: {kind.Sum(f => f.Count)}, e.g. \"{kind.First().Example}\"");
            }
        }

        if (results.Rolling is { } r)
        {
            output.Line();
            output.Line("Rolling restart of 3 silos under the same load (target: 0 failed requests)");
            output.Table(
                ["RESTART S", "OK", "FAILED", "AVAILABILITY", "P99 MS", "LONGEST MS", "LOST", "DUPLICATED", "TARGET"],
                [[
                    $"{r.RestartSeconds:0.0}", $"{r.Ok:N0}", $"{r.Failed:N0}", $"{r.Availability:0.000} %", $"{r.P99Ms:0.0}", $"{r.LongestMs:0.0}",
                    $"{r.Lost}", $"{r.Duplicated}", r.Failed == 0 ? "met" : "not met",
                ]]);
        }

        output.Line();
        output.Line($"Plots: {string.Join(", ", results.Plots)}");
    }

    private static LoadOptions Options(ChaosMode chaos, TimeSpan duration, TimeSpan chaosAt) => new LoadOptions
    {
        Concurrency = Concurrency,
        Duration = duration,
        Keys = Keys,
        WritePercent = 50,
        Chaos = [chaos],
        ChaosAt = chaosAt,
    }.WithDefaults();

    private static RecoveryDistribution Distribution(string mode, string measure, IEnumerable<double?> values)
    {
        var sorted = values.OfType<double>().Order().ToList();
        double? At(double q) => sorted.Count == 0 ? null : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
        return new RecoveryDistribution(mode, measure, sorted.Count, sorted.Count == 0 ? null : At(0.5), At(0.9), sorted.Count == 0 ? null : sorted[^1]);
    }

    private static string Seconds(double? value) => value is { } v ? $"{v:0.00}" : "-";

    /// <summary>
    /// SIGKILLs the running silo that hosts the most of the run's carts (a silo that joined after the carts were
    /// placed may host none, and killing it would measure nothing); remembers when. Right after the kill it reads every
    /// cart the silo hosted, once each (the client's retries do the rest): the last answer is when every key of the
    /// killed silo answered again, whatever the load's random key choice.
    /// </summary>
    private sealed class KillChaos(ClusterLauncher launcher, ILoadTarget target) : IChaos
    {
        private static readonly TimeSpan s_giveUp = TimeSpan.FromSeconds(30);

        public long? StruckAt { get; private set; }

        /// <summary>From the kill to the last answer of the per-cart reads; null if one failed or took over 30 s.</summary>
        public Task<double?> EveryKeyAnswered { get; private set; } = Task.FromResult<double?>(null);

        public async Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken)
        {
            var running = launcher.Silos.Where(s => s.State == SupervisedSiloState.Running && s.Pid is not null).ToList();
            if (running.Count < 2)
            {
                return new ChaosAction("no kill", $"only {running.Count} silo(s) running");
            }

            var hosts = await Task.WhenAll(Enumerable.Range(0, Keys).Select(cart => target.LocateCartAsync(LoadWorkload.CartId(cart), cancellationToken)));
            var victim = running.MaxBy(silo => hosts.Count(host => host == silo.Name))!;
            var carts = Enumerable.Range(0, Keys).Where(cart => hosts[cart] == victim.Name).Select(LoadWorkload.CartId).ToList();
            var pid = victim.Pid;
            var struck = Stopwatch.GetTimestamp();
            StruckAt = struck;
            if (!launcher.Kill(victim))
            {
                return new ChaosAction("no kill", $"could not signal {victim.Name}");
            }

            // Not the run's token: these reads go on after the run's end (bounded by s_giveUp).
            EveryKeyAnswered = LastAnswerAsync(carts, struck);
            return new ChaosAction("SIGKILL", $"{victim.Name} (pid {pid})", victim.Name);
        }

        private async Task<double?> LastAnswerAsync(IReadOnlyList<string> carts, long struck)
        {
            using var giveUp = new CancellationTokenSource(s_giveUp);
            try
            {
                await Task.WhenAll(carts.Select(cart => target.ReadCartAsync(cart, giveUp.Token)));
                return carts.Count == 0 ? null : Stopwatch.GetElapsedTime(struck).TotalSeconds;
            }
            catch (Exception)
            {
                return null; // a read failed or gave up: the distribution counts this kill as not recovered
            }
        }

        public async Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The run ended.
            }
        }
    }

    /// <summary>Replaces every silo through the launcher, one at a time, while the load runs.</summary>
    private sealed class RollingRestartChaos(ClusterLauncher launcher, CancellationToken suite) : IChaos
    {
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long? StruckAt { get; private set; }

        public double Seconds { get; private set; }

        public Task Finished => _finished.Task;

        public Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken)
        {
            StruckAt = Stopwatch.GetTimestamp();
            return Task.FromResult(new ChaosAction("rolling restart", "every silo replaced, one at a time"));
        }

        public async Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
        {
            try
            {
                // Not the run's token: the restart goes on to its end even if the load run ends first.
                await launcher.RollingRestartAsync(suite);
                Seconds = Stopwatch.GetElapsedTime(StruckAt ?? Stopwatch.GetTimestamp()).TotalSeconds;
                onChange(new ChaosAction("rolling restart done", $"after {Seconds:0.0} s"));
                _finished.TrySetResult();
            }
            catch (Exception ex)
            {
                _finished.TrySetException(ex);
            }
        }
    }
}

/// <summary>The Orleans load target, counting answered and failed calls in 100 ms buckets (for the throughput plots).</summary>
public sealed class TimedLoadTarget(ILoadTarget inner) : ILoadTarget
{
    private const double Bucket = 0.1;
    private readonly long _origin = Stopwatch.GetTimestamp();
    private readonly List<(long Ok, long Failed)> _buckets = [];

    public string Name => inner.Name;

    public Task UpsertProductAsync(string sku, string name, decimal price, int stock, CancellationToken cancellationToken) =>
        TimeAsync(() => inner.UpsertProductAsync(sku, name, price, stock, cancellationToken));

    public async Task<string?> ReadProductNameAsync(string sku, CancellationToken cancellationToken)
    {
        string? name = null;
        await TimeAsync(async () => name = await inner.ReadProductNameAsync(sku, cancellationToken));
        return name;
    }

    public async Task<IReadOnlyDictionary<string, int>> ReadCartAsync(string cartId, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, int>? cart = null;
        await TimeAsync(async () => cart = await inner.ReadCartAsync(cartId, cancellationToken));
        return cart!;
    }

    public Task AddToCartAsync(string cartId, string sku, int quantity, CancellationToken cancellationToken) =>
        TimeAsync(() => inner.AddToCartAsync(cartId, sku, quantity, cancellationToken));

    public Task ClearCartAsync(string cartId, CancellationToken cancellationToken) =>
        TimeAsync(() => inner.ClearCartAsync(cartId, cancellationToken));

    public Task<string?> LocateCartAsync(string cartId, CancellationToken cancellationToken) => inner.LocateCartAsync(cartId, cancellationToken);

    /// <summary>Throughput from <paramref name="before"/> before the event at <paramref name="at"/> to <paramref name="after"/> after it.</summary>
    public ThroughputSeries Around(string label, long at, TimeSpan before, TimeSpan after)
    {
        var seconds = new List<double>();
        var ok = new List<double>();
        var failed = new List<double>();
        var eventAt = Stopwatch.GetElapsedTime(_origin, at).TotalSeconds;
        lock (_buckets)
        {
            for (var t = -before.TotalSeconds; t < after.TotalSeconds; t += Bucket)
            {
                var index = (int)Math.Floor((eventAt + t) / Bucket);
                var (o, f) = index >= 0 && index < _buckets.Count ? _buckets[index] : (0, 0);
                seconds.Add(Math.Round(t, 1));
                ok.Add(o / Bucket);
                failed.Add(f / Bucket);
            }
        }

        return new ThroughputSeries(label, seconds, ok, failed);
    }

    private async Task TimeAsync(Func<Task> call)
    {
        var failed = false;
        try
        {
            await call();
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            var index = (int)(Stopwatch.GetElapsedTime(_origin).TotalSeconds / Bucket);
            lock (_buckets)
            {
                while (_buckets.Count <= index)
                {
                    _buckets.Add((0, 0));
                }

                var (o, f) = _buckets[index];
                _buckets[index] = failed ? (o, f + 1) : (o + 1, f);
            }
        }
    }
}
