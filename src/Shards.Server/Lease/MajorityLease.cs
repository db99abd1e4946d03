using System.Collections.Concurrent;
using Orleans.Runtime;

namespace Shards.Server.Lease;

/// <summary>
/// Whether this silo may serve grain calls: it holds the lease while it has reached a strict majority of the active
/// silos (itself included) within the last <see cref="Duration"/>. A proof is the time a successful probe of a peer was
/// <em>sent</em> (monotonic, <see cref="TimeProvider.GetTimestamp"/>), so a proof never claims more than was shown.
/// The active peers come from this silo's membership view; a silo alone in its view always holds the lease. Checked
/// on every incoming grain call: <see cref="IsHeld"/> allocates nothing. Thread-safe.
/// </summary>
public sealed class MajorityLease(SiloAddress self, TimeSpan duration, TimeProvider time)
{
    private readonly ConcurrentDictionary<SiloAddress, long> _proofs = new();
    private volatile SiloAddress[] _peers = [];

    /// <summary>This silo.</summary>
    public SiloAddress Self { get; } = self;

    /// <summary>How long a proof counts.</summary>
    public TimeSpan Duration { get; } = duration;

    /// <summary>The other active silos, as this silo's membership view has them.</summary>
    public IReadOnlyList<SiloAddress> Peers => _peers;

    /// <summary>True while this silo reached a strict majority of the active silos within <see cref="Duration"/>.</summary>
    public bool IsHeld
    {
        get
        {
            var peers = _peers;
            var now = time.GetTimestamp();
            var reached = 1; // itself
            foreach (var peer in peers)
            {
                if (IsFresh(peer, now))
                {
                    reached++;
                }
            }

            return IsMajority(reached, peers.Length + 1);
        }
    }

    /// <summary>Strict majority: more than half of <paramref name="active"/>.</summary>
    public static bool IsMajority(int reached, int active) => reached * 2 > active;

    /// <summary>
    /// Replaces the active peers (this silo left out if present). A peer that left the active set is forgotten with its
    /// proof: should it come back, it must be reached again.
    /// </summary>
    public void SetPeers(IEnumerable<SiloAddress> active)
    {
        var peers = active.Where(p => !p.Equals(Self)).Distinct().ToArray();
        _peers = peers;
        foreach (var known in _proofs.Keys)
        {
            if (Array.IndexOf(peers, known) < 0)
            {
                _proofs.TryRemove(known, out _);
            }
        }
    }

    /// <summary>
    /// Records that a probe of <paramref name="peer"/> sent at <paramref name="sentTimestamp"/> succeeded. A later proof
    /// already held is kept; a peer not in the active set is ignored (it may have left while the probe ran).
    /// </summary>
    public void RecordProof(SiloAddress peer, long sentTimestamp)
    {
        if (Array.IndexOf(_peers, peer) < 0)
        {
            return;
        }

        _proofs.AddOrUpdate(peer, sentTimestamp, (_, previous) => Math.Max(previous, sentTimestamp));
    }

    /// <summary>The lease now: held or not, the silos reached (itself included) and how many are active.</summary>
    public LeaseStatus Status()
    {
        var peers = _peers;
        var now = time.GetTimestamp();
        var reached = peers.Where(p => IsFresh(p, now)).ToArray();
        return new LeaseStatus(IsMajority(reached.Length + 1, peers.Length + 1), reached.Length + 1, peers.Length + 1, reached);
    }

    private bool IsFresh(SiloAddress peer, long now) =>
        _proofs.TryGetValue(peer, out var sent) && time.GetElapsedTime(sent, now) < Duration;
}

/// <summary>The lease at one moment: <paramref name="Reached"/> of <paramref name="Active"/> silos (itself included) reached in time.</summary>
public sealed record LeaseStatus(bool Held, int Reached, int Active, IReadOnlyList<SiloAddress> ReachedPeers);
