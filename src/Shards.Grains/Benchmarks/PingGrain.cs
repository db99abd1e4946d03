using Shards.Contracts.Benchmarks;
using Shards.Placement;

namespace Shards.Grains.Benchmarks;

/// <summary>
/// The bare grain of <c>shards bench</c>. Consistent-hash placement like the product and cart grains, so the baseline
/// spreads over the silos exactly as the grains it is compared with; otherwise nothing but the call.
/// </summary>
[GrainType("ping")]
[ConsistentHashPlacement]
public sealed class PingGrain : Grain, IPingGrain
{
    public Task<int> PingAsync(int value) => Task.FromResult(value);
}
