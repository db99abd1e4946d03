using Shards.Cli.Core;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.LocalCluster;
using Shards.Tests.Grains;
using Shards.Tests.Processes;

namespace Shards.Tests.Checkout;

/// <summary>
/// The real <c>shards</c> program against a real cluster: silo processes started by the launcher on PostgreSQL
/// (every process is stopped at the end; each CLI run is killed if it overruns).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class CheckoutCommandTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 240_000)]
    public async Task Shards_checkout_and_shards_order_get_report_outcomes_steps_and_errors_with_exit_codes()
    {
        await using var run = await LauncherTests.ClusterRun.StartAsync("checkoutcli", silos: 2, restart: false);
        var grains = await run.ConnectAsync();
        var sku = Keys.New("sku-cli");
        await grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition("Teapot", 20m, 5));
        var paidCart = Keys.New("cart");
        var declinedCart = Keys.New("cart");
        await grains.GetGrain<ICartGrain>(paidCart).AddAsync(sku, 2);
        await grains.GetGrain<ICartGrain>(declinedCart).AddAsync(sku, 1);
        var paidOrder = Keys.New("order");
        var declinedOrder = Keys.New("order");

        var checkout = await ShardsAsync(run, "checkout", paidCart, "--order", paidOrder);
        var again = await ShardsAsync(run, "checkout", paidCart, "--order", paidOrder);
        var get = await ShardsAsync(run, "order", "get", paidOrder);
        var declined = await ShardsAsync(run, "checkout", declinedCart, "--order", declinedOrder, "--payment-token", "tok-decline");
        var empty = await ShardsAsync(run, "checkout", Keys.New("cart"), "--order", Keys.New("order"));
        var badOrder = await ShardsAsync(run, "checkout", paidCart, "--order", "not valid!");
        var missing = await ShardsAsync(run, "order", "get", Keys.New("order"));

        Assert.True(checkout.ExitCode == ExitCodes.Ok, checkout.Diagnostics);
        Assert.Contains($"Order {paidOrder} for cart {paidCart}: Paid (stage Completed)", checkout.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Ok, again.ExitCode);
        Assert.Contains("already existed", again.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Ok, get.ExitCode);
        foreach (var step in new[] { "accepted", "cart-locked", "reserved", "payment-requested", "paid", "delivered" })
        {
            Assert.Contains($" {step} ", get.StandardOutput, StringComparison.Ordinal);
        }

        Assert.Empty((await grains.GetGrain<ICartGrain>(paidCart).GetAsync()).Lines);
        Assert.Equal(ExitCodes.OrderFailed, declined.ExitCode);
        Assert.Contains("Failed: the payment was declined: card declined (token ****ine)", declined.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("paid with ****sa", get.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("tok-visa", checkout.StandardOutput + again.StandardOutput + get.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("tok-decline", declined.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.BadInput, empty.ExitCode);
        Assert.Contains("is empty: there is nothing to check out", empty.StandardError, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.BadInput, badOrder.ExitCode);
        Assert.Contains("Invalid order ID", badOrder.StandardError, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
        Assert.Contains("No order", missing.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", declined.StandardError + empty.StandardError + badOrder.StandardError + missing.StandardError, StringComparison.Ordinal);
    }

    private static Task<ProcessResult> ShardsAsync(LauncherTests.ClusterRun run, params string[] command) => ProcessRunner.RunAsync(
        Path.Combine(Path.GetDirectoryName(Infrastructure.CliProcess.CliAssembly)!, "shards"),
        ["--connection", run.ConnectionString, "--cluster-id", run.Cluster.ClusterId, .. command],
        s_bound);
}
