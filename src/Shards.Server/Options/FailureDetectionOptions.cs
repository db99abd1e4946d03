namespace Shards.Server.Options;

/// <summary>
/// How fast silos notice a dead peer (section <c>Shards:FailureDetection</c>), tuned for small clusters. Orleans'
/// defaults (10 s probe timeout, 3 missed probes) took 6-11 s to declare a SIGKILLed silo dead and 64 s for a
/// frozen one on this kind of machine. These values keep a margin for GC pauses and a saturated 2-core machine:
/// a probe must be missed <see cref="MissedProbesLimit"/> times in a row and <see cref="VotesForDeathDeclaration"/>
/// silos must agree. A launcher that sees a silo process exit declares it dead at once, without waiting for probes.
/// </summary>
public sealed class FailureDetectionOptions
{
    public const string Section = "Shards:FailureDetection";

    /// <summary>How long a silo waits for a probe answer before counting it as missed.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest a probe may wait when Orleans stretches its timeout (Orleans' default: 4 x <see cref="ProbeTimeout"/>).
    /// It also sizes the window in which a peer that sent anything is taken as alive and no vote is cast
    /// (<c>MaxProbeTimeout</c> x <see cref="MissedProbesLimit"/>, ClusterMembershipOptions.EnableConnectionLivenessCheck):
    /// a frozen process's connection still shows what arrived before it froze, so with Orleans' default (4 s x 3 = 12 s)
    /// a frozen silo was evicted only after 12-16 s. 1.2 s x 3 = 3.6 s keeps both the guard against votes cast during
    /// a local stall and eviction of a frozen silo in under 5 s.
    /// </summary>
    public TimeSpan MaxProbeTimeout { get; set; } = TimeSpan.FromSeconds(1.2);

    /// <summary>Missed probes in a row before a silo votes its peer dead.</summary>
    public int MissedProbesLimit { get; set; } = 3;

    /// <summary>Votes needed to declare a silo dead (capped by Orleans to the number of other active silos).</summary>
    public int VotesForDeathDeclaration { get; set; } = 2;

    /// <summary>
    /// The first pause of a silo's placement retries (Orleans: 100 ms, doubling, 3 retries). Right after a SIGKILL, a
    /// call whose grain directory entry lives on the dead silo fails to place until the silo is declared dead (the
    /// launcher: ~0.1 s); with Orleans' 100-200-400 ms steps that call waited up to 400 ms more than needed. 25 ms
    /// doubling, 6 retries (up to ~1.6 s in all) retries it soon after the declaration; then the client's retry takes over.
    /// </summary>
    public TimeSpan PlacementRetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>How many times a silo retries placing a call whose directory or target silo did not answer.</summary>
    public int PlacementMaxRetries { get; set; } = 6;

    /// <summary>How often each silo writes its I-am-alive time into the membership table (what <c>shards members</c> shows).</summary>
    public TimeSpan IAmAlivePublishPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often each silo reads the whole membership table (ClusterMembershipOptions.TableRefreshTimeout); null: Orleans'
    /// default, 60 s. A silo learns that it was declared dead from gossip or from this read: a silo cut off from the other
    /// silos but not from PostgreSQL (a network partition) hears no gossip, and kept serving the callers that reached it for
    /// up to this long after the others declared it dead (docs/partitions.md).
    /// </summary>
    public TimeSpan? TableRefreshPeriod { get; set; }

    /// <summary>
    /// Whether each silo holds a majority lease (docs/partitions.md): it serves grain calls only while it has reached
    /// (a TCP connect to the silo endpoint) a strict majority of the active silos, itself included, within the last
    /// <see cref="MajorityLease"/>. A silo cut off from the other silos but still reached by clients otherwise keeps
    /// answering reads from activations the majority has already replaced (stale reads). Off: the silo never refuses.
    /// </summary>
    public bool MajorityLeaseEnabled { get; set; } = true;

    /// <summary>
    /// How long a successful probe of a peer counts as proof that this silo can reach it (measured from when the probe
    /// was sent). It must be shorter than the earliest the majority can declare this silo dead after a cut,
    /// (<see cref="MissedProbesLimit"/> - 1) x <see cref="ProbeTimeout"/> / 2 (1 s with the defaults: Orleans 10's adaptive
    /// probes can each time out after ProbeTimeout / 2, and a probe sent just before the cut counts as missed): a cut-off
    /// silo then stops answering before a new activation of its grains can exist elsewhere. Longer than
    /// <see cref="LeaseProbePeriod"/>, so that one late probe round does not drop the lease.
    /// </summary>
    public TimeSpan MajorityLease { get; set; } = TimeSpan.FromSeconds(0.9);

    /// <summary>
    /// How often each active peer is probed for the majority lease. Each probe opens one TCP connection to the peer's
    /// silo endpoint (with the TLS handshake under Shards:Tls), waits for the first byte of the peer's Orleans preamble
    /// and closes it; it fails after <see cref="MajorityLease"/>. A new probe starts every period even while earlier ones
    /// wait, so probes overlap and one slow or lost one costs no lease.
    /// </summary>
    public TimeSpan LeaseProbePeriod { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Dead silo rows older than this are deleted from the membership table (Orleans' default: 7 days).</summary>
    public TimeSpan DefunctSiloExpiration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the membership table is swept for defunct rows.</summary>
    public TimeSpan DefunctSiloCleanupPeriod { get; set; } = TimeSpan.FromMinutes(10);
}
