using System.Security.Cryptography;
using Shards.Cli.Core;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.LocalCluster;
using Shards.Load;

namespace Shards.Bench;

/// <summary>
/// The HTTP path against its limit: a cluster of <see cref="BenchOptions.HttpSilos"/> silos (rate limits off, an API
/// key of the suite's own that is never printed), and per target (one silo directly; all silos, round robin by the
/// client; nginx in front of them) and connection count, rounds in which the endpoints take turns in a rotated order,
/// from the bare <c>GET /health/live</c> to a checkout. Every figure is divided by the bare endpoint's on the same target
/// and connection count.
/// </summary>
public sealed class HttpSuite(CliContext context, BenchOptions options, string connectionString, string workDirectory)
{
    public const string DirectTarget = "direct (1 silo)";
    public const string SpreadTarget = "spread (client round robin)";
    public const string NginxTarget = "nginx";
    public const string OwnTool = "shards closed loop (HttpClient, SocketsHttpHandler)";

    /// <summary>
    /// ShardsApiOptions.RateLimit.Enabled (section Shards:Api:RateLimit) in the silos' environment; spelled here because
    /// the bench, a client, does not reference the server's API library.
    /// </summary>
    private const string RateLimitEnabledVariable = "Shards__Api__RateLimit__Enabled";
    private const string ClusterId = "bench-http";
    private const int PreparationInFlight = 64;

    public static IReadOnlyList<string> Targets { get; } = [DirectTarget, SpreadTarget, NginxTarget];

    /// <summary>The short names <c>--http-targets</c> takes, in the order of <see cref="Targets"/>.</summary>
    public static IReadOnlyList<string> TargetShortNames { get; } = ["direct", "spread", "nginx"];

    /// <summary>The targets of a list such as <c>direct,nginx</c>, in the suite's order; throws for a name not in <see cref="TargetShortNames"/>.</summary>
    public static IReadOnlyList<string> ParseTargets(string list)
    {
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var index = TargetShortNames.ToList().IndexOf(name.ToLowerInvariant());
            if (index < 0)
            {
                throw new ArgumentException($"'{name}' is not an HTTP bench target: {string.Join(", ", TargetShortNames)}.", nameof(list));
            }

            chosen.Add(Targets[index]);
        }

        return chosen.Count == 0
            ? throw new ArgumentException($"No HTTP bench target given: {string.Join(", ", TargetShortNames)}.", nameof(list))
            : [.. Targets.Where(chosen.Contains)];
    }

    public async Task<HttpBenchResults> RunAsync(CancellationToken cancellationToken)
    {
        var (tool, toolReason) = ChooseTool(Executables.Find("wrk"));
        CliOutput.Status($"bench: http: load generator: {tool} ({toolReason})");
        var launcherOptions = new LauncherOptions
        {
            SiloCount = options.HttpSilos,
            ConnectionString = connectionString,
            ClusterId = ClusterId,
            ServiceId = ClusterId,
            RestartCrashedSilos = false,
            LogDirectory = Path.Combine(workDirectory, "logs"),
            ApiKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
        };
        launcherOptions.SiloEnvironment[RateLimitEnabledVariable] = "false";
        await using var launcher = new ClusterLauncher(launcherOptions, message => CliOutput.Status("bench:   " + message));
        CliOutput.Status($"bench: http: starting {options.HttpSilos} silo(s), rate limits off ...");
        await launcher.StartAsync(cancellationToken);
        await using var client = new CliContext(true, connectionString, ClusterId, context.DataSources);
        var grains = await client.ConnectAsync(cancellationToken);
        await PrepareAsync(grains, cancellationToken);

        var silos = launcher.Silos.ToList();
        var siloPids = silos.Select(s => s.Pid ?? 0).Where(p => p > 0).ToList();
        var requests = new HttpRequestFactory(launcherOptions.ApiKey, options.Keys, options.HttpCheckoutCarts, DateTimeOffset.UtcNow.ToString("HHmmss"));
        var runs = new List<HttpRun>();
        var skipped = new List<HttpSkippedTarget>();
        var siloUris = silos.Select(s => new Uri(s.HttpUrl + "/")).ToList();
        if (options.HttpTargets.Contains(DirectTarget))
        {
            runs.AddRange(await RunTargetAsync(DirectTarget, tool, [siloUris[0]], requests, grains, () => new HttpMeteredPids(siloPids, [], Environment.ProcessId), cancellationToken));
        }

        if (options.HttpTargets.Contains(SpreadTarget))
        {
            runs.AddRange(await RunTargetAsync(SpreadTarget, tool, siloUris, requests, grains, () => new HttpMeteredPids(siloPids, [], Environment.ProcessId), cancellationToken));
        }

        if (!options.HttpTargets.Contains(NginxTarget))
        {
            return new HttpBenchResults(options.HttpSilos, tool, toolReason, options.HttpCheckoutCarts, WithRatios(runs), skipped);
        }

        CliOutput.Status("bench: http: starting nginx in front of the silos (deploy/nginx.conf, 127.0.0.1 only) ...");
        var (nginx, reason) = await NginxFrontend.StartAsync(Path.Combine(workDirectory, "nginx"), [.. silos.Select(s => s.HttpPort)], cancellationToken);
        if (nginx is null)
        {
            CliOutput.Status($"bench: http: WARNING: target '{NginxTarget}' SKIPPED: {reason}");
            skipped.Add(new HttpSkippedTarget(NginxTarget, reason!));
        }
        else
        {
            await using (nginx)
            {
                runs.AddRange(await RunTargetAsync(NginxTarget, tool, [nginx.BaseAddress], requests, grains, () => new HttpMeteredPids(siloPids, nginx.Pids, Environment.ProcessId), cancellationToken));
                CliOutput.Status("bench: http: stopping nginx ...");
            }
        }

        return new HttpBenchResults(options.HttpSilos, tool, toolReason, options.HttpCheckoutCarts, WithRatios(runs), skipped);
    }

    /// <summary>The load generator and why: this build drives every figure with its own closed loop.</summary>
    public static (string Tool, string Reason) ChooseTool(string? wrkPath) => wrkPath is null
        ? (OwnTool, "wrk is not installed (apt-get install wrk)")
        : (OwnTool, $"wrk is installed ({wrkPath}) but this version drives only its own closed loop");

    /// <summary>Each run with <see cref="HttpRun.VsBare"/>: its requests/s over the bare endpoint's on the same target and connection count (0 without one).</summary>
    public static IReadOnlyList<HttpRun> WithRatios(IReadOnlyList<HttpRun> runs) =>
        [.. runs.Select(run =>
        {
            var bare = runs.FirstOrDefault(b => b.Endpoint == HttpEndpoints.Name(HttpEndpoint.Bare) && b.Target == run.Target && b.Connections == run.Connections);
            return run with { VsBare = bare is { RequestsPerSecond: > 0 } ? run.RequestsPerSecond / bare.RequestsPerSecond : 0 };
        })];

    /// <summary>
    /// The ratios issue 18 sets targets on, per connection count, from the runs there are: the cart add over the product
    /// GET (direct), the cart add over its own grain call through the Orleans client (direct), and the product GET
    /// through nginx over the same spread by the client. A ratio whose two runs are not both there is left out.
    /// </summary>
    public static IEnumerable<string> TargetRatios(IReadOnlyList<HttpRun> runs)
    {
        HttpRun? Find(string target, int connections, HttpEndpoint endpoint) =>
            runs.FirstOrDefault(r => r.Target == target && r.Connections == connections && r.Endpoint == HttpEndpoints.Name(endpoint) && r.RequestsPerSecond > 0);

        foreach (var connections in runs.Select(r => r.Connections).Distinct().Order())
        {
            var cartAdd = Find(DirectTarget, connections, HttpEndpoint.CartAdd);
            if (cartAdd is not null && Find(DirectTarget, connections, HttpEndpoint.ProductGet) is { } product)
            {
                yield return $"{connections} conn, direct: cart add / product GET: {cartAdd.RequestsPerSecond / product.RequestsPerSecond:0.00}x (cart add p99 {cartAdd.P99Ms:0.0} ms).";
            }

            if (cartAdd is not null && Find(DirectTarget, connections, HttpEndpoint.GrainCartAdd) is { } grain)
            {
                yield return $"{connections} conn, direct: cart add over HTTP / its grain call through the Orleans client: {cartAdd.RequestsPerSecond / grain.RequestsPerSecond:0.00}x " +
                    $"(silo CPU per 1,000: {cartAdd.SiloCpuMsPer1000:0} vs {grain.SiloCpuMsPer1000:0} ms; grain call p99 {grain.P99Ms:0.0} ms).";
            }

            if (Find(NginxTarget, connections, HttpEndpoint.ProductGet) is { } throughNginx && Find(SpreadTarget, connections, HttpEndpoint.ProductGet) is { } spread)
            {
                yield return $"{connections} conn: product GET through nginx / spread by the client: {throughNginx.RequestsPerSecond / spread.RequestsPerSecond:0.00}x.";
            }
        }
    }

    /// <summary>The median round's rate (of an even count, the upper of the two middle ones, as the call path).</summary>
    public static double MedianRound(IEnumerable<double> rates)
    {
        var sorted = rates.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[sorted.Count / 2];
    }

    /// <summary>One endpoint's figures from its rounds and the latencies of all of them (the ratio is filled in later).</summary>
    public static HttpRun Summarise(
        HttpEndpoint endpoint, string target, int connections, string tool, IReadOnlyList<HttpLoopResult> rounds, LatencyRecorder latency, bool nginxInPath)
    {
        var requests = rounds.Sum(r => r.Requests);
        double Per1000(double cpuMs) => requests == 0 ? 0 : cpuMs / requests * 1000;
        return new HttpRun(
            HttpEndpoints.Name(endpoint), target, connections, tool, requests, rounds.Sum(r => r.Non2xx), rounds.Sum(r => r.TransportErrors),
            rounds.Sum(r => r.Seconds), MedianRound(rounds.Select(r => r.PerSecond)), latency.PercentileMs(50) ?? 0, latency.PercentileMs(99) ?? 0,
            Per1000(rounds.Sum(r => r.SiloCpuMs)), nginxInPath ? Per1000(rounds.Sum(r => r.NginxCpuMs)) : null, Per1000(rounds.Sum(r => r.ClientCpuMs)),
            0, rounds.Select(r => r.FirstError).FirstOrDefault(e => e is not null), rounds.Any(r => r.RanOut), LoopResult.CdfOf(latency));
    }

    /// <summary>Products with stock for every checkout, and the checkout carts with one line each.</summary>
    private async Task PrepareAsync(IGrainFactory grains, CancellationToken cancellationToken)
    {
        CliOutput.Status(options.HttpEndpointsToRun.Contains(HttpEndpoint.Checkout)
            ? $"bench: http: {options.Keys:N0} products and {options.HttpCheckoutCarts:N0} checkout carts ..."
            : $"bench: http: {options.Keys:N0} products ...");
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = PreparationInFlight, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(1, options.Keys), parallel, async (i, token) =>
            await grains.GetGrain<IProductGrain>(StoreSeeder.Sku(i)).UpsertAsync(new ProductDefinition($"Product {i}", 9.99m, 1_000_000), token));
        if (!options.HttpEndpointsToRun.Contains(HttpEndpoint.Checkout))
        {
            return;
        }

        await Parallel.ForEachAsync(Enumerable.Range(1, options.HttpCheckoutCarts), parallel, async (i, token) =>
            await grains.GetGrain<ICartGrain>(HttpRequestFactory.CheckoutCartId(i)).AddAsync(HttpRequestFactory.CheckoutSku(i, options.Keys), 1, token));
    }

    /// <summary>
    /// One target: every endpoint warmed at the highest connection count, then each level in rotated rounds. The
    /// grain call that is not HTTP (<see cref="HttpEndpoint.GrainCartAdd"/>) takes its turns on the direct target only.
    /// </summary>
    private async Task<IReadOnlyList<HttpRun>> RunTargetAsync(
        string target, string tool, IReadOnlyList<Uri> bases, HttpRequestFactory requests, IGrainFactory grains, Func<HttpMeteredPids> pids,
        CancellationToken cancellationToken)
    {
        var runs = new List<HttpRun>();
        var turn = -1;
        Func<HttpRequestMessage?> Next(HttpEndpoint endpoint) =>
            () => requests.Create(endpoint, bases[(int)((uint)Interlocked.Increment(ref turn) % (uint)bases.Count)]);
        Task<HttpLoopResult> Loop(
            HttpEndpoint endpoint, HttpClient http, int connections, TimeSpan warmup, TimeSpan duration, HttpMeteredPids metered, LatencyRecorder? latency) =>
            HttpEndpoints.IsHttp(endpoint)
                ? HttpClosedLoop.RunAsync(http, connections, warmup, duration, options.HttpMaxRequestsPerRun, Next(endpoint), metered, latency, cancellationToken)
                : HttpClosedLoop.RunAsync(connections, warmup, duration, options.HttpMaxRequestsPerRun, token => AddThroughClientAsync(grains, requests, token), metered, latency, cancellationToken);
        var nginxInPath = target == NginxTarget;
        var endpoints = options.HttpEndpointsToRun.Where(e => HttpEndpoints.IsHttp(e) || target == DirectTarget).ToList();

        CliOutput.Status($"bench: http: {target}: warming every endpoint at {options.HttpConnections.Max()} connections ...");
        using (var warm = Client(options.HttpConnections.Max()))
        {
            foreach (var endpoint in endpoints)
            {
                await Loop(endpoint, warm, options.HttpConnections.Max(), options.HttpTargetWarmup ?? options.HttpWarmup * 2, TimeSpan.Zero, pids(), null);
            }
        }

        foreach (var connections in options.HttpConnections)
        {
            using var http = Client(connections);
            var metered = pids();
            var rounds = endpoints.Select(_ => new List<HttpLoopResult>()).ToArray();
            var latencies = endpoints.Select(_ => new LatencyRecorder()).ToArray();
            var slice = options.HttpDuration / options.HttpRounds;
            for (var round = 0; round < options.HttpRounds; round++)
            {
                for (var i = 0; i < endpoints.Count; i++)
                {
                    var e = (i + round) % endpoints.Count;
                    rounds[e].Add(await Loop(endpoints[e], http, connections, options.HttpWarmup, slice, metered, latencies[e]));
                }
            }

            for (var e = 0; e < endpoints.Count; e++)
            {
                var run = Summarise(endpoints[e], target, connections, tool, rounds[e], latencies[e], nginxInPath);
                runs.Add(run);
                CliOutput.Status(
                    $"bench: http: {target,-27} {connections,3} conn  {run.Endpoint,-26} {run.RequestsPerSecond,8:N0} req/s  p50 {run.P50Ms:0.00} ms  p99 {run.P99Ms:0.00} ms" +
                    (run.Non2xx + run.TransportErrors > 0 ? $"  errors {run.Non2xx} non-2xx, {run.TransportErrors} transport: {run.FirstError}" : "") +
                    (run.RanOutOfCarts ? "  (ran out of prepared carts)" : ""));
            }
        }

        return runs;
    }

    /// <summary>The next cart add as a grain call through the Orleans client (its filter gives it a request ID and deadline).</summary>
    private static Task AddThroughClientAsync(IGrainFactory grains, HttpRequestFactory requests, CancellationToken cancellationToken)
    {
        var (cart, sku) = requests.NextCartAdd();
        return grains.GetGrain<ICartGrain>(cart).AddAsync(sku, 1, cancellationToken);
    }

    /// <summary>A client that holds at most <paramref name="connections"/> connections per server, no proxy, no cookies, no redirects.</summary>
    private static HttpClient Client(int connections) => new(
        new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        })
    {
        Timeout = TimeSpan.FromSeconds(10),
    };
}
