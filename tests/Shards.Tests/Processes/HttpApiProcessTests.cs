using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Shards.Load;
using Shards.LocalCluster;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Processes;

/// <summary>
/// Real silo processes from the launcher, each serving the HTTP API on its own port: called with HttpClient and
/// curl, one silo SIGKILLed, the survivor keeps answering for every key (including those the dead silo hosted).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class HttpApiProcessTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string ApiKey = "process-test-key";

    [Fact(Timeout = 240_000)]
    public async Task Each_silo_serves_the_api_on_its_own_port_and_the_survivor_answers_for_every_key_after_a_kill()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = timeout.Token;
        var logs = Path.Combine(Path.GetTempPath(), $"shards-http-logs-{Guid.NewGuid():N}");
        await using var launcher = new ClusterLauncher(new LauncherOptions
        {
            SiloCount = 2,
            ConnectionString = await TestPostgres.CreateDatabaseAsync("http"),
            ClusterId = "http-test",
            ServiceId = "http-test",
            RestartCrashedSilos = false,
            ApiKey = ApiKey,
            LogDirectory = logs,
        });
        await launcher.StartAsync(ct);
        var (first, second) = (launcher.Silos[0], launcher.Silos[1]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        var skus = Enumerable.Range(1, 20).Select(i => $"sku-http-proc-{i:D2}").ToList();

        foreach (var sku in skus)
        {
            var put = await http.PutAsync($"{first.HttpUrl}/api/products/{sku}", Json($$"""{"name":"Item {{sku}}","price":1.5,"stock":30}"""), ct);
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            Assert.Equal(first.Name, Silo(put));
        }

        var readBySecond = await http.GetAsync($"{second.HttpUrl}/api/products/{skus[0]}", ct);
        Assert.Equal(HttpStatusCode.OK, readBySecond.StatusCode);
        Assert.Equal(second.Name, Silo(readBySecond));
        var curl = await CurlAsync($"{second.HttpUrl}/api/products/{skus[1]}", ct);
        output.WriteLine(curl);
        Assert.StartsWith("HTTP/1.1 200", curl, StringComparison.Ordinal);
        Assert.Contains($"X-Shards-Silo: {second.Name}", curl, StringComparison.Ordinal);
        Assert.Contains($"\"sku\":\"{skus[1]}\"", curl, StringComparison.Ordinal);

        // `shards load --http`'s target: a bounded run through the HTTP API, every write read back and checked.
        using (var target = new HttpLoadTarget(new Uri(second.HttpUrl), ApiKey, connections: 4))
        {
            var load = await new LoadRunner(target, new LoadOptions { Concurrency = 4, RequestsPerClient = 40, Keys = 20, WritePercent = 50 }.WithDefaults())
                .RunAsync(ct);
            Assert.Equal((160, 0), (load.Transactions, load.FailedTransactions));
            Assert.Equal((0, 0), (load.WriteCheck.Lost, load.WriteCheck.Duplicated));
            Assert.True(load.WriteCheck.Acknowledged > 0);
            Assert.True(load.History!.Passed, string.Join(Environment.NewLine, load.History.Checkers.SelectMany(c => c.Violations)));
        }

        Assert.True(launcher.Kill(first), "SIGKILL was not delivered");
        await Assert.ThrowsAsync<HttpRequestException>(() => WaitUntilRefusedAsync(http, first.HttpUrl, ct));

        var watch = Stopwatch.StartNew();
        foreach (var sku in skus)
        {
            var response = await http.PostAsync($"{second.HttpUrl}/api/products/{sku}/reserve", Json("""{"quantity":1}"""), ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{sku}: {(int)response.StatusCode} {body}");
            Assert.Equal(second.Name, Silo(response));
            Assert.Equal(29, JsonDocument.Parse(body).RootElement.GetProperty("stock").GetInt32());
        }

        output.WriteLine($"All {skus.Count} keys answered through {second.Name} within {watch.Elapsed.TotalSeconds:0.0} s of the kill");
        var members = JsonDocument.Parse(await http.GetStringAsync($"{second.HttpUrl}/api/members", ct)).RootElement;
        Assert.DoesNotContain(members.GetProperty("members").EnumerateArray(), m => m.GetProperty("name").GetString() == first.Name);
        await launcher.StopAsync();
        Directory.Delete(logs, recursive: true);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Silo(HttpResponseMessage response) => response.Headers.GetValues("X-Shards-Silo").Single();

    /// <summary>Throws HttpRequestException once nothing listens on <paramref name="baseUrl"/> (the process is gone).</summary>
    private static async Task WaitUntilRefusedAsync(HttpClient http, string baseUrl, CancellationToken ct)
    {
        for (var i = 0; i < 100; i++)
        {
            await http.GetAsync($"{baseUrl}/health/live", ct);
            await Task.Delay(100, ct);
        }
    }

    /// <summary>curl -s -i with the API key; the response head and body as curl prints them.</summary>
    private static async Task<string> CurlAsync(string url, CancellationToken ct)
    {
        var start = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-s", "-i", "--max-time", "30", "-H", $"X-Api-Key: {ApiKey}", url })
        {
            start.ArgumentList.Add(argument);
        }

        using var curl = Process.Start(start)!;
        var text = await curl.StandardOutput.ReadToEndAsync(ct);
        await curl.WaitForExitAsync(ct);
        Assert.True(curl.ExitCode == 0, $"curl exited with {curl.ExitCode}: {await curl.StandardError.ReadToEndAsync(ct)}");
        return text;
    }
}
