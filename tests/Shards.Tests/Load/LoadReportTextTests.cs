using System.Text.Json;
using Shards.Cli.Core;
using Shards.History;
using Shards.Load;

namespace Shards.Tests.Load;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class LoadReportTextTests
{
    private static readonly LoadReport Clean = new(
        Target: "orleans",
        Settings: new LoadSettings(20, 15, null, 1000, 50, 10, []),
        Transactions: 12_345,
        Availability: 100,
        ElapsedSeconds: 15.012,
        ResponseTime: new ResponseTimes(12_345, 2.414, 1.9, 5.1, 9.8, 48.2, 0.61),
        TransactionRate: 822.35,
        Concurrency: 19.87,
        SuccessfulTransactions: 12_345,
        FailedTransactions: 0,
        Reads: new OperationCounts(6_172, 0),
        Writes: new OperationCounts(6_173, 0),
        StoppedEarly: false,
        PerSilo: [new SiloThroughput("silo-1", 4_100, 33.21, 273.1), new SiloThroughput("silo-2", 8_245, 66.79, 549.2)],
        Failures: [],
        Chaos: null,
        WriteCheck: new WriteCheck(6_173, 0, 0, 0, 0, 998, 0, 0),
        Timeline: [new SecondSample(0, 800, 0), new SecondSample(1, 820, 0), new SecondSample(2, 400, 0)]);

    [Fact]
    public void The_report_reads_like_siege()
    {
        var lines = LoadReportText.Format(Clean).Split('\n');

        Assert.Contains("Transactions:                    12345 hits", lines);
        Assert.Contains("Availability:                   100.00 %", lines);
        Assert.Contains("Elapsed time:                    15.01 secs", lines);
        Assert.Contains("Response time:                    2.41 ms mean", lines);
        Assert.Contains("  p50 / p95 / p99:        1.90 / 5.10 / 9.80 ms", lines);
        Assert.Contains("Longest transaction:             48.20 ms", lines);
        Assert.Contains("Shortest transaction:             0.61 ms", lines);
        Assert.Contains("Transaction rate:               822.35 trans/sec", lines);
        Assert.Contains("Concurrency:                     19.87", lines);
        Assert.Contains("Successful transactions:         12345", lines);
        Assert.Contains("Failed transactions:                 0", lines);
        Assert.Contains("  silo-2          8245   66.8 %      549.2", lines);
        Assert.Contains("Writes: acknowledged 6173, failed (unknown outcome) 0, lost 0, duplicated 0 (998 carts read back)", lines);
        Assert.DoesNotContain(lines, line => line.StartsWith("Chaos", StringComparison.Ordinal) || line.StartsWith("Failures", StringComparison.Ordinal));
    }

    [Fact]
    public void Chaos_failures_and_unchecked_carts_are_spelled_out()
    {
        var report = Clean with
        {
            FailedTransactions = 42,
            Failures = [new FailureKind("SiloUnavailableException", 40, "The target silo became unavailable"), new FailureKind("NoAnswer", 2, "no answer when the run ended (outcome unknown)")],
            Chaos = new ChaosReport(
                [ChaosMode.Kill],
                [new ChaosEvent(7.5, "SIGKILL", "silo-2 (pid 4242), hosting 331 of 1000 carts"), new ChaosEvent(9.01, "silo started", "silo-2 (pid 4300)")],
                new KillRecovery("silo-2", 331, 330, 1, 340, 12.1, 14.25)),
            WriteCheck = new WriteCheck(6_173, 17, 9, 0, 0, 990, 8, 31),
        };

        var text = LoadReportText.Format(report);

        Assert.Contains("        40  SiloUnavailableException: The target silo became unavailable", text, StringComparison.Ordinal);
        Assert.Contains("Chaos (kill):\n     7.50 s  SIGKILL       silo-2 (pid 4242), hosting 331 of 1000 carts\n     9.01 s  silo started  silo-2 (pid 4300)\n", text, StringComparison.Ordinal);
        Assert.Contains("Kill-to-recovery: 330 of 331 carts of silo-2 answered again; the 340 calls in flight to them at the kill were answered after median 12.10 s, max 14.25 s; 1 had no successful call before the run ended", text, StringComparison.Ordinal);
        Assert.Contains("Writes: acknowledged 6173, failed (unknown outcome) 17 of which 9 applied, lost 0, duplicated 0 (990 carts read back)", text, StringComparison.Ordinal);
        Assert.Contains("NOT CHECKED: 8 carts could not be read back in time (31 acknowledged writes in them)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chaos_that_never_struck_says_so()
    {
        var text = LoadReportText.Format(Clean with { Chaos = new ChaosReport([ChaosMode.Restart], [], null) });

        Assert.Contains("Chaos (restart):\n  nothing done: the run ended before the first nemesis struck", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Several_nemeses_name_themselves_and_a_run_held_past_its_time_says_so()
    {
        var report = Clean with
        {
            Chaos = new ChaosReport(
                [ChaosMode.Kill, ChaosMode.Reshard],
                [new ChaosEvent(5, "SIGKILL", "silo-2 (pid 4242)", "kill"), new ChaosEvent(10, "reshard", "add shard s2, then remove it", "reshard")],
                null,
                ExtendedSeconds: 52.5),
        };

        var text = LoadReportText.Format(report);

        Assert.Contains("Chaos (kill,reshard):\n     5.00 s  [kill] SIGKILL       silo-2 (pid 4242)\n    10.00 s  [reshard] reshard       add shard s2", text, StringComparison.Ordinal);
        Assert.Contains("the run went on 52.50 s past -t until the nemeses that hold it were done", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_history_section_counts_outcomes_and_shows_the_first_violation_of_each_rule_with_its_operations()
    {
        var read = new Operation(9, Operation.ReadBack, OperationKind.Read, "cart load-cart-00001/load-sku-001", 12, TimeSpan.FromSeconds(21), TimeSpan.FromSeconds(21.01), OperationOutcome.Ok);
        var add = new Operation(4, 3, OperationKind.Add, "cart load-cart-00001/load-sku-001", 1, TimeSpan.FromSeconds(1), null, OperationOutcome.Unknown, "NoAnswer");
        var violation = new HistoryViolation(CounterChecker.Name, CounterChecker.FinalDuplicated, read.Key, "the final quantity is 12, but at most 11 is possible", [read, add]);
        var history = new HistoryCheck(
            1000, 3, 7, 45,
            [
                new CheckerResult(RegisterChecker.Name, 20, 150, 0, new Dictionary<string, long>(), []),
                new CheckerResult(CounterChecker.Name, 25, 900, 2, new Dictionary<string, long> { [CounterChecker.FinalDuplicated] = 2 }, [violation, violation with { Key = "other" }]),
            ]);

        var text = LoadReportText.Format(Clean with { History = history });

        Assert.Contains("History: 1010 operations (1000 ok, 3 failed, 7 unknown) and 45 final reads", text, StringComparison.Ordinal);
        Assert.Contains("  register:  20 keys, 150 operations, 0 violations\n  counter:   25 keys, 900 operations, 2 violations (final-duplicated 2)\n", text, StringComparison.Ordinal);
        Assert.Contains(
            "  VIOLATION counter final-duplicated on cart load-cart-00001/load-sku-001: the final quantity is 12, but at most 11 is possible\n" +
            "      #9 read-back read cart load-cart-00001/load-sku-001 -> 12 ok [21.000 s, 21.010 s]\n" +
            "      #4 client 3 add cart load-cart-00001/load-sku-001 +1 UNKNOWN [1.000 s, never] (NoAnswer)\n",
            text,
            StringComparison.Ordinal);
        Assert.DoesNotContain("on other", text, StringComparison.Ordinal);
        Assert.False((Clean with { History = history }).Passed);
        using var json = JsonDocument.Parse(CliOutput.ToJson(Clean with { History = history }));
        var counters = json.RootElement.GetProperty("history").GetProperty("checkers")[1];
        Assert.Equal("final-duplicated", counters.GetProperty("violations")[0].GetProperty("rule").GetString());
        Assert.Equal("unknown", counters.GetProperty("violations")[0].GetProperty("operations")[1].GetProperty("outcome").GetString());
        Assert.False(json.RootElement.GetProperty("passed").GetBoolean());
    }

    [Fact]
    public void The_sparkline_scales_to_the_busiest_second_and_leaves_idle_seconds_blank()
    {
        Assert.Equal("▁▅█ ", LoadReportText.Sparkline([10, 50, 80, 0], 4));
        Assert.Equal("▄█", LoadReportText.Sparkline([1, 1, 2, 2], 2));
        Assert.Equal(string.Empty, LoadReportText.Sparkline([], 10));
    }

    [Fact]
    public void The_json_report_has_every_number_under_a_stable_name()
    {
        using var json = JsonDocument.Parse(CliOutput.ToJson(Clean with { Chaos = new ChaosReport([ChaosMode.Kill], [], null) }));
        var root = json.RootElement;

        Assert.Equal(12_345, root.GetProperty("transactions").GetInt64());
        Assert.Equal(100, root.GetProperty("availability").GetDouble());
        Assert.Equal(9.8, root.GetProperty("responseTime").GetProperty("p99Ms").GetDouble());
        Assert.Equal("silo-2", root.GetProperty("perSilo")[1].GetProperty("silo").GetString());
        Assert.Equal(0, root.GetProperty("writeCheck").GetProperty("lost").GetInt64());
        Assert.True(root.GetProperty("passed").GetBoolean());
        Assert.Equal("kill", root.GetProperty("chaos").GetProperty("modes")[0].GetString());
        Assert.Equal(3, root.GetProperty("timeline").GetArrayLength());
    }
}
