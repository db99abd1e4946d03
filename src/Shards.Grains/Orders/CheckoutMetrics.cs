using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Shards.Contracts;

namespace Shards.Grains.Orders;

/// <summary>
/// The checkout saga's and its outbox's instruments, on the <see cref="ShardsMeter"/> meter (a silo's <c>/metrics</c>
/// shows them). Counters are added once a step's write is acknowledged, by the silo that ran it: summed over the silos
/// they count orders, except that a step whose acknowledgement was lost with its silo is not counted. The pending gauges
/// cover the orders active on this silo.
/// </summary>
public sealed class CheckoutMetrics
{
    public const string Started = "shards.checkout.started";
    public const string Paid = "shards.checkout.paid";
    public const string Compensated = "shards.checkout.compensated";
    public const string Failed = "shards.checkout.failed";
    public const string Duration = "shards.checkout.duration";
    public const string Delivered = "shards.event.delivered";
    public const string Retried = "shards.event.delivery.retries";
    public const string Pending = "shards.event.delivery.pending";
    public const string PendingAge = "shards.event.delivery.pending.age";

    private readonly Counter<long> _started;
    private readonly Counter<long> _paid;
    private readonly Counter<long> _compensated;
    private readonly Counter<long> _failed;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _retried;
    private readonly ConcurrentDictionary<string, PendingDeliveries> _pending = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public CheckoutMetrics(IMeterFactory meters, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        var meter = meters.Create(ShardsMeter.Name);
        _started = meter.CreateCounter<long>(Started, "{order}", "Checkouts accepted (an order created)");
        _paid = meter.CreateCounter<long>(Paid, "{order}", "Orders paid (their purchased event queued in the outbox)");
        _compensated = meter.CreateCounter<long>(
            Compensated, "{order}", "Orders whose checkout was refused or ran out of time and started compensating (refund, release, unlock)");
        _failed = meter.CreateCounter<long>(Failed, "{order}", "Orders that ended failed, compensation done");
        _duration = meter.CreateHistogram<double>(
            Duration,
            "s",
            "Time from an order's acceptance to its outcome (paid, or failed once compensated), by outcome",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
        _delivered = meter.CreateCounter<long>(Delivered, "{delivery}", "Deliveries of purchased acknowledged by their subscriber grain, by subscription");
        _retried = meter.CreateCounter<long>(Retried, "{delivery}", "Delivery attempts of purchased that failed and will be retried, by subscription");
        meter.CreateObservableGauge(
            Pending, () => _pending.Values.Sum(p => p.Count), "{delivery}", "Deliveries of purchased not acknowledged yet, of the orders active on this silo");
        meter.CreateObservableGauge(
            PendingAge,
            () => _pending.IsEmpty ? 0 : (_time.GetUtcNow() - _pending.Values.Min(p => p.PaidAt)).TotalSeconds,
            "s",
            "Age of the oldest purchased event still waiting for a delivery on this silo (0 when none waits)");
    }

    public void RecordStarted() => _started.Add(1);

    public void RecordPaid(DateTimeOffset acceptedAt)
    {
        _paid.Add(1);
        _duration.Record(Elapsed(acceptedAt), new KeyValuePair<string, object?>("outcome", "paid"));
    }

    public void RecordCompensating() => _compensated.Add(1);

    public void RecordFailed(DateTimeOffset acceptedAt)
    {
        _failed.Add(1);
        _duration.Record(Elapsed(acceptedAt), new KeyValuePair<string, object?>("outcome", "failed"));
    }

    public void RecordDelivered(string subscription) => _delivered.Add(1, new KeyValuePair<string, object?>("subscription", subscription));

    public void RecordRetry(string subscription) => _retried.Add(1, new KeyValuePair<string, object?>("subscription", subscription));

    /// <summary>Order <paramref name="orderId"/>, paid at <paramref name="paidAt"/>, waits for <paramref name="pending"/> deliveries (0: none any more).</summary>
    public void SetPending(string orderId, DateTimeOffset paidAt, int pending)
    {
        if (pending > 0)
        {
            _pending[orderId] = new PendingDeliveries(paidAt, pending);
        }
        else
        {
            _pending.TryRemove(orderId, out _);
        }
    }

    /// <summary>The order's activation ends: its deliveries, if any are left, are counted by the silo that resumes it.</summary>
    public void Forget(string orderId) => _pending.TryRemove(orderId, out _);

    private double Elapsed(DateTimeOffset since) => Math.Max(0, (_time.GetUtcNow() - since).TotalSeconds);

    private readonly record struct PendingDeliveries(DateTimeOffset PaidAt, int Count);
}
