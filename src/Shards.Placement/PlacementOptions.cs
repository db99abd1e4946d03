namespace Shards.Placement;

/// <summary>
/// How a silo moves activations of consistent-hash placed grains to their new home when the silos change
/// (section <c>Shards:Placement</c>, e.g. <c>Shards__Placement__Rebalance=false</c>).
/// </summary>
public sealed class PlacementOptions
{
    public const string Section = "Shards:Placement";

    /// <summary>Migrate local activations whose home became another silo; off: they stay until deactivated.</summary>
    public bool Rebalance { get; set; } = true;

    /// <summary>How long the silo set must stay unchanged before the rebalancer acts (several silos often join together).</summary>
    public TimeSpan SettleDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>After a change, how many more passes ask the activations still here to migrate, <see cref="RecheckPeriod"/> apart.</summary>
    public int Rechecks { get; set; } = 3;

    public TimeSpan RecheckPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Migrations asked for at once; the rebalancer pauses <see cref="BatchPause"/> between batches.</summary>
    public int BatchSize { get; set; } = 200;

    public TimeSpan BatchPause { get; set; } = TimeSpan.FromMilliseconds(50);
}
