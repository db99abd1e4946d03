namespace Shards.Server.Lease;

/// <summary>The lease's timings, from <c>Shards:FailureDetection</c> (validated there).</summary>
public sealed record MajorityLeaseOptions(TimeSpan Lease, TimeSpan ProbePeriod)
{
    /// <summary>How long one probe may take: half the lease, so that a slow success still leaves a useful proof.</summary>
    public TimeSpan ProbeTimeout => Lease / 2;
}
