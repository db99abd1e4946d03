using System.Net;
using System.Text;
using System.Text.Json;
using Shards.LocalCluster;
using Shards.Tests.Api;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Deployment;

/// <summary>
/// deploy/nginx.conf as shipped, run by the machine's nginx: a client address over its request rate gets 429 with a
/// problem document and Retry-After, a body over 64 KB gets 413 with one, no silo answering 502 with one (each with
/// type, title, status, detail, instance and code), and oversized headers are refused. The
/// loopback exemption (local load tests) and the rate are changed for the test only, so that one address can hit it.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class NginxLimitsTests : IAsyncLifetime
{
    private readonly string _prefix = Directory.CreateTempSubdirectory("shards-nginx-").FullName;
    private readonly int _port = LoopbackPorts.Free();
    private readonly int _deadPort = LoopbackPorts.Free();

    public async Task InitializeAsync()
    {
        var shipped = await File.ReadAllTextAsync(Path.Combine(TestRepository.Root, "deploy", "nginx.conf"));
        var config = shipped
            .Replace("127.0.0.0/8 1;", "127.0.0.0/8 0;", StringComparison.Ordinal)
            .Replace("rate=500r/s", "rate=1r/s", StringComparison.Ordinal)
            .Replace("burst=1000 nodelay", "burst=2 nodelay", StringComparison.Ordinal)
            .Replace("listen 127.0.0.1:8088;", $"listen 127.0.0.1:{_port};", StringComparison.Ordinal)
            .Replace("server 127.0.0.1:808", $"server 127.0.0.1:{_deadPort}; # ", StringComparison.Ordinal); // no silo answers: 502
        Assert.NotEqual(shipped, config);
        Directory.CreateDirectory(Path.Combine(_prefix, "logs"));
        Directory.CreateDirectory(Path.Combine(_prefix, "tmp"));
        await File.WriteAllTextAsync(Path.Combine(_prefix, "nginx.conf"), config);
        var start = await ProcessRunner.RunAsync(Nginx(), ["-p", _prefix, "-e", "logs/error.log", "-c", "nginx.conf"], TimeSpan.FromSeconds(20));
        Assert.True(start.Succeeded, start.Diagnostics);

        // nginx runs as a daemon: stopped and removed with its folder if this test host dies first (DisposeAsync
        // deletes the folder, which disarms the watchdog).
        var prefix = DetachedShell.Quote(_prefix);
        DetachedShell.StartWatchdog(
            Environment.ProcessId, _prefix,
            $"{DetachedShell.Quote(Nginx())} -p {prefix} -e logs/error.log -c nginx.conf -s stop >/dev/null 2>&1; rm -rf {prefix}", "the nginx test's watchdog");
    }

    public async Task DisposeAsync()
    {
        await ProcessRunner.RunAsync(Nginx(), ["-p", _prefix, "-e", "logs/error.log", "-c", "nginx.conf", "-s", "stop"], TimeSpan.FromSeconds(20));
        Directory.Delete(_prefix, recursive: true);
    }

    [Fact(Timeout = 60_000)]
    public async Task Over_its_rate_an_address_gets_429_and_a_large_body_413_each_with_a_problem_document()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}") };

        HttpResponseMessage? limited = null;
        for (var i = 0; i < 20 && limited is null; i++)
        {
            var response = await http.GetAsync("/health/live");
            limited = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        await Task.Delay(TimeSpan.FromSeconds(3)); // a token back in the bucket, so the next request reaches the body check
        var large = await http.PostAsync("/api/carts/c/items", new StringContent(new string('x', 70 * 1024), Encoding.UTF8, "application/json"));
        using var headers = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        headers.Headers.Add("X-Padding", new string('x', 16 * 1024));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var oversized = await http.SendAsync(headers);

        Assert.NotNull(limited);
        await AssertProblemAsync(limited, 429, "rateLimited", "GET /health/live");
        Assert.NotNull(limited.Headers.RetryAfter);
        await AssertProblemAsync(large, 413, "payloadTooLarge", "POST /api/carts/c/items");
        Assert.Equal(HttpStatusCode.BadRequest, oversized.StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task When_no_silo_answers_nginx_answers_502_with_a_complete_problem_document()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}") };

        var read = await http.GetAsync("/api/products/sku-1001?fields=all");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // within the test's rate (1/s, bursts of 2)
        var write = await http.PostAsync("/api/orders", new StringContent("{}", Encoding.UTF8, "application/json"));

        await AssertProblemAsync(read, 502, "unavailable", "GET /api/products/sku-1001");
        await AssertProblemAsync(write, 502, "unavailable", "POST /api/orders");
    }

    /// <summary>A problem document with every member Shards' have (the API tests' check), for <paramref name="instance"/>.</summary>
    private static async Task AssertProblemAsync(HttpResponseMessage response, int status, string code, string instance)
    {
        await response.AssertProblemAsync(status, code);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(instance, problem.GetProperty("instance").GetString());
        Assert.StartsWith("https://tools.ietf.org/html/rfc", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
    }

    private static readonly string[] s_nginxPaths = ["/usr/sbin/nginx", "/usr/bin/nginx"];

    private static string Nginx() =>
        s_nginxPaths.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("nginx is not installed (tests/run installs it: apt-get install nginx).");
}
