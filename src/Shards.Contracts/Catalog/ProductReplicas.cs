using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Shards.Contracts.Catalog;

/// <summary>
/// This silo's copies of products, each read under a lease from its grain (<see cref="IProductGrain.ReadLeasedAsync"/>),
/// so that a product read is answered here without a grain call while the lease lasts. The product revokes every copy
/// (<see cref="Revoke"/>) before it changes, and waits until each is dropped or has run out: a copy is never older than
/// what its grain would answer. A copy counts from before it was asked for (<see cref="Asking"/>), so it runs out before
/// the grain's lease does; and it is read only while <c>mayServe</c> (the silo holds its majority lease: a
/// silo cut off from the cluster stops answering from copies, as it stops answering grain calls). At most
/// <c>capacity</c> products are kept: past it, copies that ran out are dropped, and if that is not enough, none is
/// added. Thread-safe; a read takes no lock.
/// </summary>
public sealed class ProductReplicas
{
    public const string Reads = "shards.read_leases.reads";
    public const string Copies = "shards.read_leases.copies";
    public const string Revoked = "shards.read_leases.revoked";

    /// <summary>
    /// The share of a lease a copy gives up, so that it runs out before the grain's record of it even when this silo's
    /// clock runs slower than the grain's silo's: a copy counts <c>lease × (1 − this)</c> on this silo's clock. Clock
    /// rates of commodity machines differ by well under 0.1 % (NTP slews a clock by at most 0.05 %); 1 % costs a 1 s
    /// lease 10 ms.
    /// </summary>
    public const double MaxClockRateDifference = 0.01;

    private readonly ConcurrentDictionary<string, Replica> _replicas = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly Func<bool> _mayServe;
    private readonly int _capacity;
    private long _readsFromCopies;
    private long _readsFromGrains;
    private long _revoked;

    /// <summary>When each product's copy was last revoked (a timestamp): a copy asked for before that is not kept.</summary>
    private readonly Dictionary<string, long> _revokedAt = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>The longest lease seen: a revocation older than that concerns no copy still on its way.</summary>
    private long _longestLease;

    /// <param name="meters">When given: <c>shards.read_leases.*</c>, observed from counters kept here (nothing per read on the meter).</param>
    public ProductReplicas(TimeProvider time, Func<bool> mayServe, int capacity, IMeterFactory? meters = null)
    {
        (_time, _mayServe, _capacity) = (time, mayServe, capacity);
        if (meters?.Create(ShardsMeter.Name) is not { } meter)
        {
            return;
        }

        meter.CreateObservableCounter(
            Reads,
            () => new[]
            {
                new Measurement<long>(Interlocked.Read(ref _readsFromCopies), new KeyValuePair<string, object?>("source", "copy")),
                new Measurement<long>(Interlocked.Read(ref _readsFromGrains), new KeyValuePair<string, object?>("source", "grain")),
            },
            unit: "{read}",
            description: "Product reads on this silo (the HTTP API's product GET, a cart's price), answered from its leased copy (source=copy) or by the product's grain (source=grain)");
        meter.CreateObservableGauge(Copies, () => _replicas.Count, unit: "{product}", description: "Products this silo keeps a leased copy of (some may have run out)");
        meter.CreateObservableCounter(
            Revoked, () => Interlocked.Read(ref _revoked), unit: "{revocation}", description: "Revocations of this silo's copies by products about to change");
    }

    /// <summary>How many copies are kept now, including those that ran out (for tests and diagnostics).</summary>
    public int Count => _replicas.Count;

    /// <summary>The product's copy while its lease lasts and this silo may serve it; otherwise null (ask the grain).</summary>
    public ProductSnapshot? TryRead(string sku)
    {
        if (_replicas.TryGetValue(sku, out var replica) && _time.GetTimestamp() < replica.Until && _mayServe())
        {
            Interlocked.Increment(ref _readsFromCopies);
            return replica.Product;
        }

        return null;
    }

    /// <summary>Counts a read answered by the product's grain.</summary>
    public void CountGrainRead() => Interlocked.Increment(ref _readsFromGrains);

    /// <summary>The moment to pass to <see cref="Keep"/>: taken just before the grain is asked.</summary>
    public long Asking() => _time.GetTimestamp();

    /// <summary>
    /// Keeps <paramref name="product"/>, leased for <paramref name="lease"/> to a request sent at <paramref name="askedAt"/>,
    /// unless its copy was revoked since (the answer may predate the change that revoked it), the lease already ran
    /// out, or this silo keeps as many products as it may.
    /// </summary>
    public bool Keep(string sku, ProductSnapshot product, TimeSpan lease, long askedAt)
    {
        if (lease <= TimeSpan.Zero)
        {
            return false;
        }

        var leaseTicks = (long)(lease.TotalSeconds * (1 - MaxClockRateDifference) * _time.TimestampFrequency);
        var until = askedAt + leaseTicks;
        lock (_gate)
        {
            _longestLease = Math.Max(_longestLease, leaseTicks);
            var now = _time.GetTimestamp();
            if (now >= until || (_revokedAt.TryGetValue(sku, out var revoked) && revoked >= askedAt))
            {
                return false;
            }

            if (_replicas.Count >= _capacity && !_replicas.ContainsKey(sku) && !MakeRoom(now))
            {
                return false;
            }

            _replicas[sku] = new Replica(product, until);
            return true;
        }
    }

    /// <summary>Drops the product's copy, and any copy of it asked for before now that has not arrived yet.</summary>
    public void Revoke(string sku)
    {
        Interlocked.Increment(ref _revoked);
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            _replicas.TryRemove(sku, out _);
            _revokedAt[sku] = now;
            if (_revokedAt.Count > 1024 && _revokedAt.Count > _replicas.Count)
            {
                // A copy asked for longer ago than the longest lease would have run out on arrival: those marks can go.
                foreach (var (key, at) in _revokedAt)
                {
                    if (now - at > _longestLease)
                    {
                        _revokedAt.Remove(key);
                    }
                }
            }
        }
    }

    /// <summary>Drops the copies that ran out; true when that made room.</summary>
    private bool MakeRoom(long now)
    {
        foreach (var (key, replica) in _replicas)
        {
            if (replica.Until <= now)
            {
                _replicas.TryRemove(key, out _);
            }
        }

        return _replicas.Count < _capacity;
    }

    private sealed record Replica(ProductSnapshot Product, long Until);
}
