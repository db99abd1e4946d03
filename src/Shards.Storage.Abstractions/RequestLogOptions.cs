namespace Shards.Storage;

/// <summary>The request log (section <c>Shards:Storage:RequestLog</c>; docs/exactly-once.md).</summary>
public sealed class RequestLogOptions
{
    public const string Section = "Shards:Storage:RequestLog";

    /// <summary>
    /// How far apart the clocks of clients and silos may be. A request's log row is kept loaded until its deadline plus
    /// this allowance, so that a silo whose clock is behind still recognises a late copy.
    /// </summary>
    public TimeSpan ClockSkewAllowance { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a log row is kept after it expired, so that a retry that comes after its request's deadline is still
    /// told the original outcome (after that it is told that the outcome is no longer known).
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often each silo prunes rows past their retention from each database it writes to.</summary>
    public TimeSpan PrunePeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>At most this many rows are deleted per statement while pruning (a short transaction each).</summary>
    public int PruneBatchSize { get; set; } = 10_000;

    /// <summary>The problems with these values, empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ClockSkewAllowance < TimeSpan.Zero || ClockSkewAllowance > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{Section}:ClockSkewAllowance must be between 0 and 10 minutes (got {ClockSkewAllowance}).");
        }

        if (Retention < TimeSpan.Zero)
        {
            errors.Add($"{Section}:Retention cannot be negative (got {Retention}).");
        }

        if (PrunePeriod <= TimeSpan.Zero)
        {
            errors.Add($"{Section}:PrunePeriod must be positive (got {PrunePeriod}).");
        }

        if (PruneBatchSize < 1)
        {
            errors.Add($"{Section}:PruneBatchSize must be at least 1 (got {PruneBatchSize}).");
        }

        return errors;
    }
}
