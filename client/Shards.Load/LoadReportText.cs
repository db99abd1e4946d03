using System.Globalization;
using System.Text;
using Shards.History;

namespace Shards.Load;

/// <summary>The report for people: siege's block, then per silo, throughput over time, failures, chaos, writes, history.</summary>
public static class LoadReportText
{

    private const string Bars = "▁▂▃▄▅▆▇█";
    private const int SparklineWidth = 60;

    public static string Format(LoadReport report)
    {
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');
        void Row(string label, string value, string unit = "") => Line($"{label + ":",-26}{value,12} {unit}".TrimEnd());

        Row("Transactions", Count(report.Transactions), "hits");
        Row("Availability", Number(report.Availability), "%");
        Row("Elapsed time", Number(report.ElapsedSeconds), "secs");
        if (report.ResponseTime is { } times)
        {
            Row("Response time", Number(times.MeanMs), "ms mean");
            Row("  p50 / p95 / p99", $"{Number(times.P50Ms)} / {Number(times.P95Ms)} / {Number(times.P99Ms)}", "ms");
            Row("Longest transaction", Number(times.LongestMs), "ms");
            if (report.Longest is { } longest)
            {
                Line($"  a {longest.Operation} of {longest.Cart} ({longest.Silo}), started at {Number(longest.StartedAtSeconds)} s");
            }

            Row("Shortest transaction", Number(times.ShortestMs), "ms");
        }
        else
        {
            Row("Response time", "-", "(no successful transaction)");
        }

        Row("Transaction rate", Number(report.TransactionRate), "trans/sec");
        Row("Concurrency", Number(report.Concurrency));
        Row("Successful transactions", Count(report.SuccessfulTransactions));
        Row("Failed transactions", Count(report.FailedTransactions));
        Line($"  reads {Count(report.Reads.Ok)} ok, {Count(report.Reads.Failed)} failed; " +
            $"writes {Count(report.Writes.Ok)} ok, {Count(report.Writes.Failed)} failed" +
            (report.ProductReads is { } productReads && report.ProductWrites is { } productWrites && productReads.Ok + productReads.Failed + productWrites.Ok + productWrites.Failed > 0
                ? $"; product reads {Count(productReads.Ok)} ok, {Count(productReads.Failed)} failed; product writes {Count(productWrites.Ok)} ok, {Count(productWrites.Failed)} failed"
                : string.Empty) +
            (report.StoppedEarly ? "; stopped early (Ctrl+C or SIGTERM)" : string.Empty));

        if (report.PerSilo.Count > 0)
        {
            Line();
            Line("Per silo (successful cart transactions, by the silo hosting the cart):");
            var width = Math.Max(4, report.PerSilo.Max(s => s.Silo.Length));
            Line($"  {"SILO".PadRight(width)}  {"TRANSACTIONS",12}  {"SHARE",7}  {"TRANS/SEC",9}");
            foreach (var silo in report.PerSilo)
            {
                Line($"  {silo.Silo.PadRight(width)}  {Count(silo.Transactions),12}  {Number(silo.Share, "0.0") + " %",7}  {Number(silo.TransactionRate, "0.0"),9}");
            }
        }

        if (report.Timeline.Count > 1)
        {
            var columns = Math.Min(SparklineWidth, report.Timeline.Count);
            var perColumn = report.Timeline.Count / (double)columns;
            Line();
            Line($"Per second ({(perColumn > 1 ? $"1 column = {perColumn:0.#} s" : "1 column = 1 s")}):");
            Line($"  ok      |{Sparkline(report.Timeline.Select(s => s.Ok).ToList(), columns)}| max {Count(report.Timeline.Max(s => s.Ok))}/s");
            if (report.Timeline.Any(s => s.Failed > 0))
            {
                Line($"  failed  |{Sparkline(report.Timeline.Select(s => s.Failed).ToList(), columns)}| max {Count(report.Timeline.Max(s => s.Failed))}/s");
            }
        }

        if (report.Failures.Count > 0)
        {
            Line();
            Line("Failures:");
            foreach (var failure in report.Failures)
            {
                Line($"  {Count(failure.Count),8}  {failure.Kind}: {failure.Example}");
            }
        }

        if (report.Chaos is { } chaos)
        {
            Line();
            Line($"Chaos ({ChaosModes.Names(chaos.Modes)}):");
            if (chaos.Events.Count == 0)
            {
                Line("  nothing done: the run ended before the first nemesis struck");
            }

            foreach (var chaosEvent in chaos.Events)
            {
                Line($"  {Number(chaosEvent.AtSeconds),7} s  {(chaosEvent.Nemesis is { } nemesis && chaos.Modes.Count > 1 ? $"[{nemesis}] " : string.Empty)}{chaosEvent.Action,-13} {chaosEvent.Detail}");
            }

            if (chaos.ExtendedSeconds is { } extended)
            {
                Line($"  the run went on {Number(extended)} s past -t until the nemeses that hold it were done");
            }

            if (chaos.Outage is { } outage)
            {
                var formation = chaos.Modes.Any(m => m is ChaosMode.PgFailover or ChaosMode.PgSwitchover or ChaosMode.PgStandbyKill);
                Line((outage.BackAtSeconds, formation) switch
                {
                    ({ } back, true) => $"  PostgreSQL formation struck: a writable primary again after {Number(outage.DownSeconds ?? 0)} s ({Number(outage.DownAtSeconds)} s to {Number(back)} s, as the monitor reported):",
                    (null, true) => $"  PostgreSQL formation struck at {Number(outage.DownAtSeconds)} s and NO writable primary before the run ended:",
                    ({ } back, false) => $"  PostgreSQL down {Number(outage.DownSeconds ?? 0)} s ({Number(outage.DownAtSeconds)} s to {Number(back)} s):",
                    _ => $"  PostgreSQL down from {Number(outage.DownAtSeconds)} s and NOT started again before the run ended:",
                });
                Line($"    during the outage: writes {Count(outage.WritesDuring.Ok)} ok, {Count(outage.WritesDuring.Failed)} failed; " +
                    $"reads {Count(outage.ReadsDuring.Ok)} ok, {Count(outage.ReadsDuring.Failed)} failed");
                Line(outage.FirstFailedWriteAtSeconds is { } firstFailed
                    ? $"    writes unavailable {Number(outage.WriteUnavailableSeconds)} s (first failed write at {Number(firstFailed)} s, last at {Number(outage.LastFailedWriteAtSeconds ?? firstFailed)} s)"
                    : "    writes unavailable 0 s: no write failed");
                if (outage.BackAtSeconds is not null)
                {
                    Line(outage.RecoverySeconds is { } recovered
                        ? $"    recovery: first write started after it was back acknowledged {Number(recovered)} s after PostgreSQL was back" +
                          (outage.LastFailedWriteSeconds is { } lastFailed ? $"; last failed write {Number(lastFailed)} s after" : "; no write failed after it was back")
                        : "    recovery: NO write started after it was back was acknowledged before the run ended");
                }
            }

            if (chaos.Recovery is { } recovery)
            {
                Line(recovery.Carts == 0
                    ? $"  Kill-to-recovery: {recovery.Silo} hosted none of the run's carts"
                    : recovery.Recovered == 0
                    ? $"  Kill-to-recovery: none of the {recovery.Carts} carts of {recovery.Silo} answered again before the run ended"
                    : $"  Kill-to-recovery: {recovery.Recovered} of {recovery.Carts} carts of {recovery.Silo} answered again; " +
                      $"the {recovery.Callers} calls in flight to them at the kill were answered after median {Number(recovery.MedianSeconds ?? 0)} s, max {Number(recovery.MaxSeconds ?? 0)} s" +
                      (recovery.AllCartsSeconds is { } all ? $"; every one answered a call started after it within {Number(all)} s" : string.Empty) +
                      (recovery.NotRecovered > 0 ? $"; {recovery.NotRecovered} had no successful call before the run ended" : string.Empty));
            }
        }

        var writes = report.WriteCheck;
        Line();
        Line($"Writes: acknowledged {Count(writes.Acknowledged)}, failed (unknown outcome) {Count(writes.Failed)}" +
            (writes.Failed > 0 ? $" of which {Count(writes.FailedButApplied)} applied" : string.Empty) +
            $", lost {Count(writes.Lost)}, duplicated {Count(writes.Duplicated)} ({Count(writes.CartsChecked)} carts read back)");
        if (writes.CartsUnreadable > 0)
        {
            Line($"  NOT CHECKED: {Count(writes.CartsUnreadable)} carts could not be read back in time " +
                $"({Count(writes.AcknowledgedUnchecked)} acknowledged writes in them)");
        }

        if (report.History is { } history)
        {
            Line();
            Line($"History: {Count(history.Operations)} operations ({Count(history.OperationsOk)} ok, {Count(history.OperationsFailed)} failed, " +
                $"{Count(history.OperationsUnknown)} unknown) and {Count(history.FinalReads)} final reads; a cart read is a read of each of its lines");
            foreach (var checker in history.Checkers)
            {
                Line($"  {checker.Checker + ":",-10} {Count(checker.Keys)} keys, {Count(checker.Operations)} operations, {Count(checker.ViolationCount)} violations" +
                    (checker.ByRule.Count > 0 ? $" ({string.Join(", ", checker.ByRule.Select(r => $"{r.Key} {Count(r.Value)}"))})" : string.Empty));
            }

            // In full: the earliest violation of each rule (the JSON report has up to HistoryChecker.MaxViolationsKept per checker).
            var shown = history.Checkers.SelectMany(c => c.Violations.DistinctBy(v => v.Rule)).ToList();
            foreach (var violation in shown)
            {
                Line($"  VIOLATION {violation.Checker} {violation.Rule} on {violation.Key}: {violation.Message}");
                foreach (var operation in violation.Operations)
                {
                    Line($"      {operation}");
                }
            }

            if (shown.Count < history.ViolationCount)
            {
                Line($"  (the first violation of each rule is shown; --json lists up to {HistoryChecker.MaxViolationsKept} per checker)");
            }
        }

        return text.ToString();
    }

    /// <summary>One bar per column, scaled to the largest value; a column averages its seconds; blank for zero.</summary>
    internal static string Sparkline(IReadOnlyList<long> values, int columns)
    {
        if (values.Count == 0 || columns <= 0)
        {
            return string.Empty;
        }

        var averages = Enumerable.Range(0, columns).Select(column =>
        {
            var from = (int)((long)column * values.Count / columns);
            var to = Math.Max(from + 1, (int)((long)(column + 1) * values.Count / columns));
            return values.Skip(from).Take(to - from).Average();
        }).ToList();
        var max = averages.Max();
        return new string(averages
            .Select(value => value <= 0 || max <= 0 ? ' ' : Bars[(int)Math.Min(Bars.Length - 1, Math.Ceiling(value / max * Bars.Length) - 1)])
            .ToArray());
    }

    private static string Number(double value, string format = "0.00") => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);
}
