using Orleans.Runtime.Messaging;

namespace Shards.Client;

/// <summary>No silo of the cluster answered within the connect timeout.</summary>
public sealed class ClusterUnreachableException(string message, Exception? innerException = null) : Exception(message, innerException)
{
    /// <summary>
    /// The one line a person reads when a client could not connect to cluster <paramref name="clusterId"/>: what
    /// failed, and, since a gateway that drops the connection during the handshake is the mark of a TLS mismatch,
    /// what to check about the cluster certificate.
    /// </summary>
    public static ClusterUnreachableException For(string clusterId, TimeSpan connectTimeout, Exception failure, bool tlsEnabled)
    {
        var refused = Chain(failure).Any(e => e is ConnectionFailedException);
        var hint = !refused ? string.Empty
            : tlsEnabled
                ? " The gateways refused this client's TLS handshake: this client's certificate (Shards:Tls) is not the cluster's certificate, or the silos run without TLS."
                : " The gateways dropped the connection: if the cluster runs with TLS (Shards:Tls:Enabled), this client needs the cluster certificate too " +
                  "(Shards__Tls__Enabled=true, Shards__Tls__CertificatePath, Shards__Tls__CertificatePassword).";
        return new ClusterUnreachableException(
            $"Could not connect to cluster '{clusterId}' within {connectTimeout.TotalSeconds:0} s: {Chain(failure).Last().Message.TrimEnd('.')}.{hint}", failure);
    }

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }
}
