using Orleans.Runtime;
using Shards.Contracts.Common;

namespace Shards.Hosting.Client;

/// <summary>Which failures of a grain call are worth retrying: the cluster moved underneath the call.</summary>
public static class TransientFaults
{
    /// <summary>
    /// A silo died or is stopping, a gateway went away, a call timed out, or storage was briefly unavailable.
    /// Domain errors (validation, not found, conflict) are never transient.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        ShardsException shards => shards.Code == ShardsErrorCode.StorageUnavailable,
        OrleansMessageRejectionException => true,
        GatewayTooBusyException => true,
        TimeoutException => true,
        OrleansException orleans when orleans.InnerException is not null => IsTransient(orleans.InnerException),
        System.Net.Sockets.SocketException => true,
        _ => false,
    };
}

/// <summary>Finds the Shards error inside what a grain call threw.</summary>
public static class ShardsFailures
{
    /// <summary>
    /// The <see cref="ShardsException"/> in <paramref name="exception"/>'s chain, if any: Orleans wraps a storage
    /// failure during activation as "Error from storage provider ..." around the Shards error.
    /// </summary>
    public static ShardsException? Find(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is ShardsException shards)
            {
                return shards;
            }
        }

        return null;
    }
}

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
            catch (Exception ex) when (TransientFaults.IsTransient(ex) && DateTime.UtcNow + delay < deadline)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
            }
        }
    }
}
