namespace Shards.Contracts.Operations;

/// <summary>
/// Calls to Shards' grains that one silo served since it started, and how many of them failed (cumulative: a reader
/// takes rates from two readings). What <c>shards top</c> reads from every active silo.
/// </summary>
[GenerateSerializer, Immutable, Alias("shards.SiloCallCounts")]
public sealed record SiloCallCounts(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] long Calls,
    [property: Id(2)] long Errors);
