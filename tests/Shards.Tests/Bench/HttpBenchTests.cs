using Shards.Bench;
using Shards.Cli;
using Shards.Load;

namespace Shards.Tests.Bench;

/// <summary>The pure parts of <c>shards bench --suite http</c>: its figures, ratios, report, requests, nginx configuration and command line.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class HttpBenchTests
{
    private static readonly string s_bare = HttpEndpoints.Name(HttpEndpoint.Bare);
    private static readonly string s_product = HttpEndpoints.Name(HttpEndpoint.ProductGet);

    [Theory]
    [InlineData("bench --suite http", BenchParts.Http)]
    [InlineData("bench --suite http --quick", BenchParts.Http)]
    [InlineData("bench", BenchParts.All)]
    [InlineData("bench --suite calls", BenchParts.Calls)]
    public void Bench_suite_names_parse_to_their_parts(string commandLine, BenchParts parts)
    {
        var result = ShardsCli.Build().Parse(commandLine.Split(' '));

        Assert.Empty(result.Errors);
        Assert.Equal(parts, BenchSuiteNames.Parts(result.GetValue<string>("--suite")!));
    }

    [Fact]
    public void The_full_run_and_the_quick_run_include_the_http_suite()
    {
        Assert.True(BenchParts.All.HasFlag(BenchParts.Http));
        Assert.Equal(BenchParts.All, BenchOptions.QuickRun("out").Parts);
        Assert.Equal([1, 16, 64, 256], BenchOptions.Full("out").HttpConnections);
    }

    [Fact]
    public void A_narrow_http_run_takes_its_targets_endpoints_and_connections_with_the_bare_endpoint_always_in()
    {
        var result = ShardsCli.Build().Parse(
            ["bench", "--suite", "http", "--http-targets", "nginx,direct", "--http-endpoints", "cart-add,product", "--http-connections", "64", "--http-warmup", "5"]);

        Assert.Empty(result.Errors);
        Assert.Equal([HttpSuite.DirectTarget, HttpSuite.NginxTarget], HttpSuite.ParseTargets(result.GetValue<string>("--http-targets")!));
        Assert.Equal([HttpEndpoint.Bare, HttpEndpoint.ProductGet, HttpEndpoint.CartAdd], HttpEndpoints.Parse(result.GetValue<string>("--http-endpoints")!));
        Assert.Equal([64], Shards.Cli.Commands.BenchCommand.ParseConnections(result.GetValue<string>("--http-connections")!));
        Assert.Equal(5, result.GetValue<double?>("--http-warmup"));
        Assert.Equal(HttpSuite.Targets, BenchOptions.Full("out").HttpTargets);
        Assert.Equal(HttpEndpoints.All, BenchOptions.Full("out").HttpEndpointsToRun);
        Assert.Equal(HttpEndpoints.All.Count, HttpEndpoints.ShortNames.Count);
    }

    [Theory]
    [InlineData("--http-targets", "direkt")]
    [InlineData("--http-targets", ",")]
    [InlineData("--http-endpoints", "products")]
    [InlineData("--http-connections", "0")]
    [InlineData("--http-connections", "64,x")]
    [InlineData("--http-warmup", "-1")]
    public void A_narrow_http_run_with_an_unknown_name_or_count_is_refused(string option, string value)
    {
        var result = ShardsCli.Build().Parse(["bench", "--suite", "http", option, value]);

        Assert.NotEmpty(result.Errors);
    }

    [Fact]
    public void An_unknown_suite_is_refused_by_the_command_line()
    {
        var result = ShardsCli.Build().Parse(["bench", "--suite", "htp"]);

        Assert.NotEmpty(result.Errors);
        Assert.Throws<ArgumentException>(() => BenchSuiteNames.Parts("htp"));
    }

    [Fact]
    public void A_run_summary_takes_the_median_round_and_percentiles_of_all_rounds_and_counts_errors_apart()
    {
        var latency = new LatencyRecorder();
        for (var ms = 1; ms <= 100; ms++)
        {
            latency.Record(TimeSpan.FromMilliseconds(ms));
        }

        HttpLoopResult[] rounds =
        [
            new(100, 2, 0, 1.0, 10, 0, 5, null, false),
            new(300, 0, 1, 1.0, 30, 0, 15, "GET /api/members: HttpRequestException: refused", false),
            new(200, 0, 0, 1.0, 10, 0, 10, null, false),
        ];

        var run = HttpSuite.Summarise(HttpEndpoint.Authenticated, HttpSuite.DirectTarget, 16, HttpSuite.OwnTool, rounds, latency, nginxInPath: false);

        Assert.Equal(200, run.RequestsPerSecond);
        Assert.Equal(600, run.Requests);
        Assert.Equal(2, run.Non2xx);
        Assert.Equal(1, run.TransportErrors);
        Assert.Equal(3.0, run.Seconds);
        Assert.InRange(run.P50Ms, 49.5, 50.5);
        Assert.InRange(run.P99Ms, 98, 100);
        Assert.Equal(50.0 / 600 * 1000, run.SiloCpuMsPer1000, 6);
        Assert.Equal(30.0 / 600 * 1000, run.ClientCpuMsPer1000, 6);
        Assert.Null(run.NginxCpuMsPer1000);
        Assert.Equal("GET /api/members: HttpRequestException: refused", run.FirstError);
        Assert.Equal(102, run.Cdf.Count);
    }

    [Theory]
    [InlineData(new double[] { 5, 1, 3 }, 3)]
    [InlineData(new double[] { 4, 1 }, 4)]
    [InlineData(new double[] { 7 }, 7)]
    [InlineData(new double[0], 0)]
    public void The_median_round_is_the_middle_rate(double[] rates, double median) =>
        Assert.Equal(median, HttpSuite.MedianRound(rates));

    [Fact]
    public void Every_endpoint_is_divided_by_the_bare_endpoint_of_its_own_target_and_connection_count()
    {
        HttpRun[] runs =
        [
            Run(s_bare, HttpSuite.DirectTarget, 16, 1000), Run(s_product, HttpSuite.DirectTarget, 16, 250),
            Run(s_bare, HttpSuite.NginxTarget, 16, 500), Run(s_product, HttpSuite.NginxTarget, 16, 250),
            Run(s_product, HttpSuite.NginxTarget, 64, 300),
        ];

        var ratios = HttpSuite.WithRatios(runs).Select(r => r.VsBare).ToList();

        Assert.Equal([1.0, 0.25, 1.0, 0.5, 0], ratios);
    }

    [Fact]
    public void The_target_ratios_are_taken_per_connection_count_from_the_runs_there_are()
    {
        var cartAdd = HttpEndpoints.Name(HttpEndpoint.CartAdd);
        var grain = HttpEndpoints.Name(HttpEndpoint.GrainCartAdd);
        HttpRun[] runs =
        [
            Run(s_product, HttpSuite.DirectTarget, 64, 10_000), Run(cartAdd, HttpSuite.DirectTarget, 64, 1_000), Run(grain, HttpSuite.DirectTarget, 64, 2_000),
            Run(s_product, HttpSuite.SpreadTarget, 64, 8_000), Run(s_product, HttpSuite.NginxTarget, 64, 6_000),
            Run(cartAdd, HttpSuite.DirectTarget, 16, 500),
        ];

        var ratios = HttpSuite.TargetRatios(runs).ToList();

        Assert.Equal(3, ratios.Count);
        Assert.StartsWith("64 conn, direct: cart add / product GET: 0.10x", ratios[0]);
        Assert.StartsWith("64 conn, direct: cart add over HTTP / its grain call through the Orleans client: 0.50x", ratios[1]);
        Assert.Equal("64 conn: product GET through nginx / spread by the client: 0.75x.", ratios[2]);
    }

    [Fact]
    public void The_report_has_the_http_table_says_which_tool_and_names_a_skipped_target_loudly()
    {
        var http = new HttpBenchResults(
            2, HttpSuite.OwnTool, "wrk is not installed (apt-get install wrk)", 100,
            HttpSuite.WithRatios([Run(s_bare, HttpSuite.DirectTarget, 1, 2000), Run(s_product, HttpSuite.DirectTarget, 1, 1000) with { Non2xx = 3, FirstError = "404 GET /api/products/sku-1" }]),
            [new HttpSkippedTarget(HttpSuite.NginxTarget, "nginx is not installed")]);
        var machine = new BenchMachine(2, 8, "6.1", "10.0.1", "15", "10.4.2", "1.0");
        var results = new BenchResults(DateTimeOffset.UnixEpoch, 60, true, "shards bench --quick --suite http", machine, [], [], [], [], null, [], [], [], "") { Http = http };

        var markdown = BenchReportText.Markdown(results);

        Assert.Contains("| target | conns | endpoint | req/s | p50 ms | p99 ms | non-2xx | transport err | cpu ms/1k silos | nginx | client | vs bare |", markdown);
        Assert.Contains($"| {HttpSuite.DirectTarget} | 1 | {s_product} | 1,000 | 1.00 | 2.00 | 3 | 0 | 40 | - | 10 | 0.50x |", markdown);
        Assert.Contains("SKIPPED: target 'nginx' was not measured: nginx is not installed.", markdown);
        Assert.Contains($"Load generator of every figure: {HttpSuite.OwnTool} (wrk is not installed (apt-get install wrk)).", markdown);
        Assert.Contains("first: 404 GET /api/products/sku-1", markdown);
    }

    [Fact]
    public async Task Checkouts_take_each_prepared_cart_once_and_stop_when_they_run_out()
    {
        var requests = new HttpRequestFactory("the-key", keys: 10, checkoutCarts: 2, runTag: "t1");
        var baseAddress = new Uri("http://127.0.0.1:5000/");

        using var first = requests.Create(HttpEndpoint.Checkout, baseAddress)!;
        using var second = requests.Create(HttpEndpoint.Checkout, baseAddress)!;
        var third = requests.Create(HttpEndpoint.Checkout, baseAddress);

        Assert.Equal(HttpMethod.Post, first.Method);
        Assert.Equal("/api/orders", first.RequestUri!.AbsolutePath);
        Assert.Equal(
            """{"orderId":"http-order-t1-1","cartId":"http-checkout-000001","paymentToken":"tok-visa"}""",
            await first.Content!.ReadAsStringAsync());
        Assert.Contains("http-checkout-000002", await second.Content!.ReadAsStringAsync());
        Assert.Null(third);
        Assert.Equal(2, requests.CheckoutsTaken);
    }

    [Fact]
    public async Task Cart_adds_carry_a_fresh_idempotency_key_and_the_bare_endpoint_no_api_key()
    {
        var requests = new HttpRequestFactory("the-key", keys: 10, checkoutCarts: 0, runTag: "t1");
        var baseAddress = new Uri("http://127.0.0.1:5000/");

        using var add1 = requests.Create(HttpEndpoint.CartAdd, baseAddress)!;
        using var add2 = requests.Create(HttpEndpoint.CartAdd, baseAddress)!;
        using var bare = requests.Create(HttpEndpoint.Bare, baseAddress)!;
        using var members = requests.Create(HttpEndpoint.Authenticated, baseAddress)!;

        Assert.NotEqual(add1.Headers.GetValues(HttpEndpoints.IdempotencyKeyHeader).Single(), add2.Headers.GetValues(HttpEndpoints.IdempotencyKeyHeader).Single());
        Assert.Matches("""^\{"sku":"sku-000(0[1-9]|10)","quantity":1\}$""", await add1.Content!.ReadAsStringAsync());
        Assert.Equal("application/json", add1.Content.Headers.ContentType!.MediaType);
        Assert.Equal("/health/live", bare.RequestUri!.AbsolutePath);
        Assert.False(bare.Headers.Contains(HttpEndpoints.ApiKeyHeader));
        Assert.Equal("the-key", members.Headers.GetValues(HttpEndpoints.ApiKeyHeader).Single());
    }

    /// <summary>The cart add through the Orleans client runs in the same closed loop: completed calls are answers, exceptions transport errors.</summary>
    [Fact]
    public async Task A_closed_loop_of_grain_calls_counts_completed_calls_and_failures_apart_and_quotes_the_first_failure()
    {
        var calls = 0;
        var latency = new LatencyRecorder();
        var result = await HttpClosedLoop.RunAsync(
            connections: 4, warmup: TimeSpan.Zero, duration: TimeSpan.FromSeconds(30), maxRequests: 40,
            async token =>
            {
                await Task.Yield();
                if (Interlocked.Increment(ref calls) % 4 == 0)
                {
                    throw new InvalidOperationException("cart full");
                }
            },
            new HttpMeteredPids([], [], Environment.ProcessId), latency, CancellationToken.None);

        Assert.Equal(40, calls);
        Assert.Equal(30, result.Requests);
        Assert.Equal(10, result.TransportErrors);
        Assert.Equal(0, result.Non2xx);
        Assert.Equal("InvalidOperationException: cart full", result.FirstError);
        Assert.False(result.RanOut);
        Assert.NotNull(latency.PercentileMs(50));
        Assert.Equal("cart AddAsync, Orleans client", HttpEndpoints.Name(HttpEndpoint.GrainCartAdd));
        Assert.False(HttpEndpoints.IsHttp(HttpEndpoint.GrainCartAdd));
        Assert.Equal(HttpEndpoint.GrainCartAdd, Assert.Single(HttpEndpoints.All, e => !HttpEndpoints.IsHttp(e)));
    }

    [Fact]
    public void The_nginx_configuration_is_the_deployed_one_in_front_of_the_given_silos_on_loopback()
    {
        var template = File.ReadAllText(NginxFrontend.FindTemplate() ?? throw new InvalidOperationException("deploy/nginx.conf not found"));

        var config = NginxFrontend.Configure(template, [15001, 15002], 16000);

        Assert.Contains("        server 127.0.0.1:15001 max_fails=1 fail_timeout=5s;\n        server 127.0.0.1:15002 max_fails=1 fail_timeout=5s;\n", config);
        Assert.DoesNotContain("127.0.0.1:8081", config);
        var listens = config.Split('\n').Where(l => l.TrimStart().StartsWith("listen ", StringComparison.Ordinal)).ToList();
        Assert.Equal(["        listen 127.0.0.1:16000;"], listens);
        Assert.Contains("keepalive 256;", config);
        Assert.Throws<InvalidDataException>(() => NginxFrontend.Configure("events {}\n", [15001], 16000));

        // The listen line's parameters after the address are the template's, kept.
        var withParameters = NginxFrontend.Configure("        # servers: begin\n        # servers: end\n        listen 127.0.0.1:8088 reuseport backlog=512;\n", [15001], 16000);
        Assert.Contains("        listen 127.0.0.1:16000 reuseport backlog=512;\n", withParameters);
    }

    private static HttpRun Run(string endpoint, string target, int connections, double perSecond) =>
        new(endpoint, target, connections, HttpSuite.OwnTool, (long)perSecond, 0, 0, 1, perSecond, 1, 2, 40, null, 10, 0, null, false, []);
}
