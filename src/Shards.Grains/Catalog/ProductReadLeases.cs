using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Services;
using Shards.Contracts;
using Shards.Contracts.Catalog;
using Shards.Grains.Common;

namespace Shards.Grains.Catalog;

/// <summary>Calls the <see cref="IProductReadLeaseHolder"/> of one silo (a grain service: one per silo).</summary>
public sealed class ProductReadLeaseHolders(IServiceProvider services) : GrainServiceClient<IProductReadLeaseHolder>(services)
{
    /// <summary>The copies held on <paramref name="silo"/>.</summary>
    public IProductReadLeaseHolder On(SiloAddress silo) => GetGrainService(silo);
}

/// <summary>
/// What every product's lease table shares in a silo where read leases are on: the lease's length, the clock, the
/// holders' grain services and the cluster's active silos. Not registered when they are off.
/// </summary>
public sealed class ProductReadLeaseGrants(
    ProductReadLeaseOptions options,
    TimeProvider time,
    ProductReadLeaseHolders holders,
    IClusterMembershipService membership,
    IMeterFactory meters,
    ILogger<ProductReadLeaseGrants> logger)
{
    public const string WaitedOut = "shards.read_leases.waited_out";

    /// <summary>Holders that left a revocation unconfirmed, and until when (a timestamp) they get no lease.</summary>
    private readonly ConcurrentDictionary<SiloAddress, long> _unresponsive = new();

    private readonly Counter<long> _waitedOut = meters.Create(ShardsMeter.Name).CreateCounter<long>(
        WaitedOut, unit: "{revocation}", description: "Revocations a product's change went ahead without (the silo holding the copy did not confirm: killed, frozen, cut off), once the lease ran out or the silo was declared dead");

    public TimeSpan Duration => options.Duration;

    /// <summary>How long a holder that left a revocation unconfirmed gets no lease: 5 lease lengths.</summary>
    public TimeSpan UnresponsivePause => options.Duration * 5;

    public TimeProvider Time => time;

    /// <summary>Drops <paramref name="sku"/>'s copy on <paramref name="holder"/>; throws when the silo does not confirm it.</summary>
    public Task RevokeOnAsync(SiloAddress holder, string sku) => holders.On(holder).RevokeAsync(sku);

    /// <summary>
    /// True when this silo's membership view has <paramref name="silo"/> declared dead. A silo is declared dead only
    /// after it lost its majority lease (docs/partitions.md), so it answers no read from a copy any more: a revocation
    /// it cannot confirm need not be waited out.
    /// </summary>
    public bool IsDeclaredDead(SiloAddress silo) =>
        membership.CurrentSnapshot.Members.TryGetValue(silo, out var member) && member.Status == SiloStatus.Dead;

    /// <summary>The silos this silo's membership view has active: any of them may hold a copy.</summary>
    public IEnumerable<SiloAddress> ActiveSilos() =>
        membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress);

    /// <summary>
    /// False for a while after <paramref name="holder"/> left a revocation unconfirmed. Requests it sent before it was cut
    /// off may still be queued at products: each would be granted a lease it never receives, and make the product's
    /// next change wait again. Its reads are answered all the same, without a lease.
    /// </summary>
    public bool MayLeaseTo(SiloAddress holder) =>
        !_unresponsive.TryGetValue(holder, out var until) || time.GetTimestamp() >= until;

    /// <summary>Logs and counts a revocation that <paramref name="holder"/> did not confirm: the change went ahead after <paramref name="waited"/>.</summary>
    public void WentAheadUnconfirmed(string sku, SiloAddress holder, string failure, string because, TimeSpan waited)
    {
        _unresponsive[holder] = time.GetTimestamp() + (long)(UnresponsivePause.TotalSeconds * time.TimestampFrequency);
        _waitedOut.Add(1);
        Log.LeaseRevokeUnconfirmed(logger, sku, holder, failure, waited.TotalMilliseconds, because);
    }
}

/// <summary>
/// One product activation's read leases: which silos hold a copy of the product, and until when (by this silo's
/// monotonic clock, counted from when the lease was granted: the holder counts from before it asked, so its copy
/// runs out first). Before the product's state changes (a write, or a reload after a write of unknown outcome), every
/// copy is revoked: the change waits until each holder confirmed it dropped its copy, was declared dead, or its lease
/// ran out.
/// </summary>
/// <remarks>
/// An activation does not know the copies an earlier activation of the same product leased out (the grain moved, or
/// was deactivated): for one lease length after it starts, it counts every active silo as a holder. A silo that does
/// not answer (killed, cut off) makes the change wait out the lease, or until it is declared dead; a silo that is cut off from the cluster stops
/// answering reads from its copies (and every grain call) once it loses its majority lease (docs/read-leases.md).
/// Single-threaded: called only from its grain's turns, never while a change is in flight (the grain is not reentrant).
/// </remarks>
internal sealed class ProductReadLeases(ProductReadLeaseGrants grants, string sku)
{
    private static readonly TimeSpan s_checkPeriod = TimeSpan.FromMilliseconds(50);

    private readonly Dictionary<SiloAddress, long> _holders = [];

    /// <summary>Until when copies leased by an earlier activation may still be read (a timestamp), or 0.</summary>
    private long _earlierLeasesUntil;

    /// <summary>Called when the activation starts with a stored product: earlier activations may have leased it out.</summary>
    public void CoverEarlierActivations() => _earlierLeasesUntil = grants.Time.GetTimestamp() + Ticks(grants.Duration);

    /// <summary>Grants <paramref name="holder"/> a lease from now; returns its length (zero: none, the holder left a revocation unconfirmed lately).</summary>
    public TimeSpan Grant(SiloAddress holder)
    {
        if (!grants.MayLeaseTo(holder))
        {
            return TimeSpan.Zero;
        }

        _holders[holder] = grants.Time.GetTimestamp() + Ticks(grants.Duration);
        return grants.Duration;
    }

    /// <summary>
    /// Revokes every lease that has not run out: completes once each holder dropped its copy or its lease ran out.
    /// Never throws: a holder that does not confirm is waited out.
    /// </summary>
    public async ValueTask RevokeAllAsync()
    {
        var now = grants.Time.GetTimestamp();
        Dictionary<SiloAddress, long>? revoke = null;
        foreach (var (holder, until) in _holders)
        {
            if (until > now)
            {
                (revoke ??= [])[holder] = until;
            }
        }

        if (_earlierLeasesUntil > now)
        {
            foreach (var silo in grants.ActiveSilos())
            {
                revoke ??= [];
                revoke[silo] = Math.Max(revoke.GetValueOrDefault(silo), _earlierLeasesUntil);
            }
        }

        if (revoke is null)
        {
            _holders.Clear();
            _earlierLeasesUntil = 0;
            return;
        }

        await Task.WhenAll(revoke.Select(h => RevokeAsync(h.Key, h.Value)));
        _holders.Clear();
        _earlierLeasesUntil = 0;
    }

    /// <summary>
    /// Revokes <paramref name="holder"/>'s copy: done when it confirms, when its lease runs out, or when it is declared dead
    /// (checked every <see cref="s_checkPeriod"/> while the revocation has no answer), whichever comes first.
    /// </summary>
    private async Task RevokeAsync(SiloAddress holder, long until)
    {
        var revocation = grants.RevokeOnAsync(holder, sku);
        var started = grants.Time.GetTimestamp();
        string? failure = null;
        while (true)
        {
            var left = Remaining(until);
            var dead = grants.IsDeclaredDead(holder);
            if (left <= TimeSpan.Zero || dead)
            {
                grants.WentAheadUnconfirmed(sku, holder, failure ?? "no answer", dead ? "it was declared dead" : "its lease ran out", grants.Time.GetElapsedTime(started));
                return;
            }

            var step = left < s_checkPeriod ? left : s_checkPeriod;
            if (failure is not null)
            {
                await Task.Delay(step, grants.Time);
                continue;
            }

            try
            {
                await revocation.WaitAsync(step, grants.Time);
                return;
            }
            catch (TimeoutException)
            {
                // No answer yet: check the holder's lease and status again.
            }
            catch (Exception exception)
            {
                failure = exception.GetType().Name;
            }
        }
    }

    private TimeSpan Remaining(long until)
    {
        var left = until - grants.Time.GetTimestamp();
        return left <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)left / grants.Time.TimestampFrequency);
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * grants.Time.TimestampFrequency);
}
