namespace Shards.Server.Lease;

/// <summary>The lease's timings, from <c>Shards:FailureDetection</c> (validated there).</summary>
public sealed record MajorityLeaseOptions(TimeSpan Lease, TimeSpan ProbePeriod)
{
    /// <summary>
    /// How long one probe may take: the lease (a success that took longer proves nothing that is still valid). Probes of a
    /// peer overlap, one starting every period, so a slow round trip (a TLS handshake over a 100 ms link) still renews the
    /// lease as long as it is shorter than the lease minus a period.
    /// </summary>
    public TimeSpan ProbeTimeout => Lease;
}
