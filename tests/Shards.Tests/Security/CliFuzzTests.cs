using Shards.Tests.Infrastructure;

namespace Shards.Tests.Security;

/// <summary>
/// The <c>shards</c> CLI run as a process with bad arguments (malformed and hostile IDs, negative and overflowing
/// numbers, unknown commands and options, missing values, control and non-ASCII characters), with no cluster and no
/// PostgreSQL: every run exits non-zero with one clear line on stderr, nothing on stdout, and no stack trace.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
[Collection(Shards.Tests.Infrastructure.HeavyProcessesCollection.Name)]
public sealed class CliFuzzTests
{
    public static IEnumerable<object[]> BadCommandLines() =>
        new[]
        {
            "bogus", "--cluster-id", "--no-such-option members", "product", "product get", "product get \u0001",
            "product get a\u00a0b", "product get sku/1", "product get ..", "product get -", "product get 1001", "product get " + new string('s', 65),
            "product get sku-\u00e9", "product get sku-\U0001F600", "product get sku\nnext", "product reserve sku-1 0", "product reserve sku-1 -5",
            "product reserve sku-1 abc", "product reserve sku-1 2147483648", "product reserve sku-1 1.5", "product release sku-1 -1",
            "product upsert sku-1 --name x --price -1 --stock 1", "product upsert sku-1 --name x --price 1e999 --stock 1",
            "product upsert sku-1 --name x --price 1.001 --stock 1", "product upsert sku-1 --name x --price 1 --stock -1",
            "product upsert sku-1 --name x --price 1 --stock 99999999999", "product upsert sku-1 --price 1 --stock 1",
            "product upsert sku-1 --name \u0007bell --price 1 --stock 1", "product upsert sku-1 --name  --price 1 --stock 1",
            "cart add cart-1 sku-1 0", "cart add cart-1 sku-1 -1", "cart add cart-1 sku-1 10001", "cart add cart/1 sku-1",
            "cart add cart-1 sku!1", "cart set cart-1 sku-1 -1", "cart set cart-1 sku-1 nan", "cart get", "cart get 'c'", "cart clear ab",
            "where nothing", "where product/", "where planet/sku-1", "where product/sku 1",
            "load -c 0", "load -c 1001", "load -c -1", "load -t abc", "load -t -5s", "load -t 1s -r 5", "load --writes 101",
            "load --keys 0", "load --chaos explode", "load --chaos-at 5s", "load --outage 5s", "load --chaos pg-restart -t 10s --outage 0s",
            "load --chaos kill,kill", "load --chaos none,kill", "load --chaos kill,,hot", "load --stall-for 5s", "load -t 20s --chaos pg-stall --stall-for 30s",
            "load -r 5 --chaos reshard --chaos-at 1s", "load -t 20s --chaos kill,hot --chaos-at 3s", "load --products 101",
            "cluster up --silos 0", "cluster up --silos 99", "cluster up --shards 17", "kill", "bench --bogus",
        }.Select(line => new object[] { line });

    [Theory]
    [MemberData(nameof(BadCommandLines))]
    public async Task A_bad_command_line_exits_non_zero_with_one_clear_line_and_no_stack_trace(string commandLine)
    {
        var arguments = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(a => a.Trim('\'')).ToList();
        var run = await CliProcess.RunAsync(
            arguments,
            new Dictionary<string, string> { ["Shards__Postgres__Directory"] = Path.Combine(Path.GetTempPath(), $"shards-cli-fuzz-none-{Guid.NewGuid():N}") },
            TimeSpan.FromSeconds(60));

        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(run.ExitCode is not 0, $"exit 0 for: {commandLine}");
        Assert.True(lines.Length == 1, $"{lines.Length} lines on stderr for '{commandLine}':\n{run.Stderr}");
        Assert.StartsWith("shards", lines[0], StringComparison.Ordinal);
        Assert.True(lines[0].Length > 20, lines[0]);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, run.Stdout.Trim());
    }
}
