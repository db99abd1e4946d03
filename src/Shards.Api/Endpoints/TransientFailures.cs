using System.Net.Sockets;
using Orleans.Runtime;
using Shards.Contracts.Common;

namespace Shards.Api.Endpoints;

/// <summary>
/// Which grain-call failures mean "the cluster moved under the call" and are worth another attempt under the same
/// request ID. The same rule as the Orleans client's retry filter (Shards.Hosting's TransientFaults), kept here
/// because the API runs inside a silo and depends only on the contracts.
/// </summary>
internal static class TransientFailures
{
    public static bool IsTransient(Exception exception) => exception switch
    {
        ShardsException shards => shards.Code == ShardsErrorCode.StorageUnavailable,
        OrleansMessageRejectionException => true,
        GatewayTooBusyException => true,
        TimeoutException => true,
        OrleansException orleans when orleans.InnerException is not null => IsTransient(orleans.InnerException),
        SocketException => true,
        _ => false,
    };

    /// <summary>The <see cref="ShardsException"/> in the chain (Orleans wraps storage failures during activation).</summary>
    public static ShardsException? FindShardsException(Exception exception)
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
