using Orleans.Concurrency;

namespace Shards.Contracts.Common;

/// <summary>Where an activation lives: what <c>shards where KEY</c> prints.</summary>
/// <param name="GrainId">The Orleans grain id, e.g. <c>product/sku-42</c>.</param>
/// <param name="Silo">The hosting silo's address (ip:port@generation).</param>
/// <param name="SiloName">The hosting silo's name (e.g. <c>silo-2</c>).</param>
/// <param name="ActivatedAt">When this activation started (UTC).</param>
[GenerateSerializer, Immutable, Alias("shards.GrainLocation")]
public sealed record GrainLocation(
    [property: Id(0)] string GrainId,
    [property: Id(1)] string Silo,
    [property: Id(2)] string SiloName,
    [property: Id(3)] DateTimeOffset ActivatedAt);

/// <summary>A grain that can say where it lives.</summary>
public interface ILocatableGrain : IGrain
{
    /// <summary>
    /// The silo hosting this activation and when it was activated. Activates the grain if needed. Interleaves: it reads
    /// no state, so it answers even while the grain is busy (e.g. an order waiting for its payment).
    /// </summary>
    [AlwaysInterleave]
    Task<GrainLocation> WhereAsync(CancellationToken cancellationToken = default);
}
