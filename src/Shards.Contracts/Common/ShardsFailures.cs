using System.Net.Sockets;

namespace Shards.Contracts.Common;

/// <summary>
/// How callers read a failed grain call: whether it is worth another attempt under the same request ID (the cluster
/// moved under the call), and the Shards error inside it. One rule for the client's retry filter and the HTTP API.
/// </summary>
public static class ShardsFailures
{
    /// <summary>
    /// A silo died or is stopping, a gateway went away, a call timed out, storage was briefly unavailable, or the silo
    /// was cut off from the majority of the cluster. Domain errors (validation, not found, conflict) are never transient.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        ShardsException shards => IsTransient(shards.Code),
        OrleansMessageRejectionException => true,
        GatewayTooBusyException => true,
        Orleans.Runtime.Messaging.ConnectionFailedException => true, // a gateway the client still listed is gone
        TimeoutException => true,
        OrleansException orleans when orleans.InnerException is not null => IsTransient(orleans.InnerException),
        SocketException => true,
        _ => false,
    };

    /// <summary>The Shards errors worth another attempt: storage unavailable, silo cut off from the majority.</summary>
    public static bool IsTransient(ShardsErrorCode code) => code is ShardsErrorCode.StorageUnavailable or ShardsErrorCode.SiloCutOff;

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
