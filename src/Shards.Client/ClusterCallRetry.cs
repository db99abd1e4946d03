using Shards.Contracts.Common;

namespace Shards.Client;

/// <summary>Retries transient failures with bounded exponential backoff.</summary>
public static class ClusterCallRetry
{
    /// <summary>
    /// Runs <paramref name="call"/> until it succeeds, fails with a non-transient error, or <paramref name="budget"/>
    /// is spent (then the last error is thrown). Only for calls that are safe to repeat (reads, idempotent writes).
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<Task<T>> call, TimeSpan budget, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + budget;
        var delay = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception ex) when (ShardsFailures.IsTransient(ex) && DateTime.UtcNow + delay < deadline)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
            }
        }
    }
}
