namespace Shards.Placement;

/// <summary>
/// Placement by consistent hashing over the live, compatible silos: every key has one predictable home silo, and when a
/// silo joins or leaves only about 1/N of the keys change home. Its director and the rebalancer that moves idle
/// activations to their new home are registered by <c>AddShardsSilo</c>; select it per grain class with
/// <see cref="ConsistentHashPlacementAttribute"/>, beside Orleans' own strategies.
/// </summary>
[Serializable, GenerateSerializer, Immutable, Alias("shards.ConsistentHashPlacement")]
public sealed class ConsistentHashPlacement : PlacementStrategy
{
    internal static ConsistentHashPlacement Singleton { get; } = new();
}
