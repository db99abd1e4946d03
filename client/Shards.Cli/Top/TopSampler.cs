using Shards.Client;
using Shards.Contracts.Common;
using Shards.Postgres;

namespace Shards.Cli.Top;

/// <summary>
/// Takes <see cref="TopReading"/>s: the silos from the membership table (PostgreSQL, so that they show even when no
/// silo answers), activations from Orleans' catalog counts and call counts from every silo's
/// <see cref="GrainCallCounters"/>, both through the management grain.
/// </summary>
internal sealed class TopSampler(MembershipTableReader membership, IGrainFactory grains, string clusterId, TimeProvider time)
{
    private readonly long _started = time.GetTimestamp();

    public async Task<TopReading> ReadAsync(CancellationToken cancellationToken)
    {
        var members = (await membership.ReadAsync(clusterId, cancellationToken)).Where(m => m.Status != SiloStatusCode.Dead).ToList();
        var activations = await OrNullAsync(async () => (await GrainActivationCounts.ReadAsync(grains))
            .GroupBy(c => c.Silo.ToString())
            .ToDictionary(g => g.Key, g => g.Sum(c => c.Count)));
        var calls = await OrNullAsync(async () => (await GrainCallCounters.ReadAsync(grains)).ToDictionary(c => c.Silo.ToString()));
        return new TopReading(time.GetElapsedTime(_started), time.GetUtcNow(), members, activations, calls);
    }

    /// <summary>A read that failed for a passing reason (a silo leaving or joining) leaves its columns empty this time.</summary>
    private static async Task<T?> OrNullAsync<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (Exception ex) when (ShardsFailures.IsTransient(ex) || ex is ArgumentException or TimeoutException)
        {
            return null;
        }
    }
}
