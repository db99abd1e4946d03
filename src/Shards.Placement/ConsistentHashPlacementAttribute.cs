using Orleans.Placement;

namespace Shards.Placement;

/// <summary>Places the grain class with <see cref="ConsistentHashPlacement"/>: each key on its home silo of the ring.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ConsistentHashPlacementAttribute() : PlacementAttribute(ConsistentHashPlacement.Singleton);
