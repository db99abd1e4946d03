using System.Diagnostics;
using System.Text.Json;
using Shards.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Shards.Tests.Processes;

/// <summary>
/// The CLI as a user drives it, against a real two-silo cluster started by <c>shards cluster up</c>: seed, check out
/// (one paid, one declined), list products, carts and orders page by page, see the purchased event and its deliveries
/// (once and with <c>--follow</c>), watch <c>top</c>, prune dead members, and stop everything with
/// <c>shards cluster down</c>. Every command is a separate process, bounded in time; the launcher and its silos are
/// gone at the end (killed should <c>cluster down</c> not stop them).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
[Collection(HeavyProcessesCollection.Name)]
public sealed class CliEndToEndTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_cliTimeout = TimeSpan.FromSeconds(90);

    [Fact(Timeout = 420_000)]
    public async Task Listing_events_top_and_cluster_down_work_from_the_command_line_against_a_real_cluster()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("cli_e2e");
        await using var run = await LauncherStateProcessTests.LauncherRun.StartAsync(connectionString, silos: 2, output);

        await ShardsAsync(run, "seed", "--products", "12", "--carts", "5");
        Assert.Equal(0, (await ShardsAsync(run, "checkout", "cart-00001", "--order", "order-e2e-1")).ExitCode);
        var declined = await ShardsAsync(run, ["checkout", "cart-00002", "--order", "order-e2e-2", "--payment-token", "tok-decline"], expectedExit: 6);
        Assert.Contains("declined", declined.Stdout, StringComparison.Ordinal);

        // Products page by page with the cursor: every SKU once, in order.
        var skus = new List<string>();
        string? after = null;
        for (var pages = 0; pages < 10; pages++)
        {
            var page = Json(await ShardsAsync(run, after is null ? ["product", "list", "--limit", "5", "--json"] : ["product", "list", "--limit", "5", "--after", after, "--json"]));
            skus.AddRange(page.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("sku").GetString()!));
            after = page.GetProperty("next").GetString();
            if (after is null)
            {
                break;
            }
        }

        Assert.Equal(Enumerable.Range(1, 12).Select(i => $"sku-{i:00000}"), skus);
        var text = await ShardsAsync(run, "product", "list", "--limit", "5");
        Assert.Contains("More: shards product list --after sku-00005", text.Stdout, StringComparison.Ordinal);

        var carts = Json(await ShardsAsync(run, "cart", "list", "--all", "--json")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(1, 5).Select(i => $"cart-{i:00000}"), carts.Select(c => c.GetProperty("cartId").GetString()));
        Assert.Equal(0, carts[0].GetProperty("lines").GetArrayLength()); // emptied by its purchase

        var orders = Json(await ShardsAsync(run, "order", "list", "--json")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["order-e2e-1", "order-e2e-2"], orders.Select(o => o.GetProperty("orderId").GetString()));
        Assert.DoesNotContain("tok-visa", orders[0].ToString(), StringComparison.Ordinal);

        // The paid order's event, delivered to the cart and to each product of its lines; the declined one has none.
        JsonElement purchased = default;
        for (var i = 0; i < 40; i++)
        {
            var events = Json(await ShardsAsync(run, "events", "--json")).GetProperty("events").EnumerateArray().ToList();
            Assert.DoesNotContain(events, e => e.GetProperty("orderId").GetString() == "order-e2e-2");
            purchased = Assert.Single(events);
            if (purchased.GetProperty("pending").GetInt32() == 0)
            {
                break;
            }

            await Task.Delay(250);
        }

        Assert.Equal("purchased:order-e2e-1", purchased.GetProperty("eventId").GetString());
        var deliveries = purchased.GetProperty("deliveries").EnumerateArray().ToList();
        Assert.Contains(deliveries, d => d.GetProperty("subscriber").GetString() == "cart/cart-00001");
        Assert.All(deliveries, d => Assert.True(d.GetProperty("delivered").GetBoolean() && d.GetProperty("attempts").GetInt32() >= 1, d.ToString()));

        var follow = await ShardsAsync(run, "events", "--follow", "--for", "2s", "--interval", "0.5s");
        Assert.Contains("purchased:order-e2e-1", follow.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, follow.Stdout.Split('\n').Count(l => l.Contains("purchased:order-e2e-1", StringComparison.Ordinal))); // printed once: nothing changed

        var top = Json(await ShardsAsync(run, "top", "--once", "--json"));
        Assert.Equal(2, top.GetProperty("silos").GetArrayLength());

        var prune = Json(await ShardsAsync(run, "members", "prune", "--json"));
        Assert.Equal(JsonValueKind.Number, prune.GetProperty("removed").ValueKind);

        var down = await ShardsAsync(run, "cluster", "down");
        Assert.Contains("stopped", down.Stdout + down.Stderr, StringComparison.Ordinal);
        Assert.True(run.Process.WaitForExit(TimeSpan.FromSeconds(30)), "the launcher did not exit after 'shards cluster down'");
        Assert.All(run.SiloPids, pid => Assert.False(IsRunning(pid), $"silo pid {pid} still runs after 'shards cluster down'"));
        var again = await ShardsAsync(run, ["cluster", "down"], expectedExit: null);
        Assert.NotEqual(0, again.ExitCode); // nothing left to stop, and it says so
    }

    private Task<CliRun> ShardsAsync(LauncherStateProcessTests.LauncherRun run, params string[] arguments) => ShardsAsync(run, arguments, expectedExit: 0);

    private async Task<CliRun> ShardsAsync(LauncherStateProcessTests.LauncherRun run, string[] arguments, int? expectedExit)
    {
        var result = await CliProcess.RunAsync([.. arguments, "--connection", run.ConnectionString], timeout: s_cliTimeout, workingDirectory: run.Folder);
        output.WriteLine($"$ shards {string.Join(' ', arguments)} -> {result.ExitCode}{Environment.NewLine}{result.Stdout}{result.Stderr}");
        if (expectedExit is { } exit)
        {
            Assert.True(result.ExitCode == exit, $"shards {string.Join(' ', arguments)} exited {result.ExitCode}, expected {exit}: {result.Stderr}");
        }

        return result;
    }

    private static JsonElement Json(CliRun run) => JsonDocument.Parse(run.Stdout.Trim()).RootElement;

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
