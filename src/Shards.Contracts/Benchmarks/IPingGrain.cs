namespace Shards.Contracts.Benchmarks;

/// <summary>
/// A bare Orleans grain for <c>shards bench</c>: no state, no storage, no domain rules. It is the baseline a Shards
/// read is compared with, so the ratio shows what Shards adds on top of an Orleans call.
/// </summary>
[Alias("shards.IPingGrain")]
public interface IPingGrain : IGrainWithStringKey
{
    /// <summary>Answers <paramref name="value"/> unchanged.</summary>
    Task<int> PingAsync(int value);
}
