using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Orleans.Runtime;
using Shards.Client;

namespace Shards.Server.Lease;

/// <summary>
/// Reaches a peer the way silo-to-silo traffic does: a TCP connection to its advertised silo endpoint
/// (<see cref="SiloAddress.Endpoint"/>), which counts once the first byte of the peer's Orleans connection preamble
/// arrives (a silo writes it as soon as it accepts a connection), then closed (with a reset, so that no TIME_WAIT socket
/// is left per probe). The connection alone would not do: the kernel of a frozen (SIGSTOPped) silo still completes it.
/// With cluster TLS (<see cref="ClusterTls"/>) the probe also completes the TLS handshake with the cluster certificate
/// before closing: a bare connection would make the peer log an "Authentication failed" warning for every probe, and
/// a completed handshake proves the peer is a member of this cluster, not just a listening port. Without TLS the peer
/// logs two Information lines per probe under <c>Orleans.Runtime.Messaging.Connection</c> ("Closing connection",
/// "terminated"), hidden by the silo's default <c>Orleans: Warning</c> level, and no warning.
/// </summary>
internal sealed class TcpSiloProbe(ClusterTls? tls) : ISiloProbe
{
    public async Task<bool> ProbeAsync(SiloAddress peer, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var socket = new Socket(peer.Endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(peer.Endpoint, deadline.Token);
            var buffer = new byte[1];
            int received;
            if (tls is not null)
            {
                await using var stream = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
                await stream.AuthenticateAsClientAsync(ClientOptions(tls), deadline.Token);
                received = await stream.ReadAsync(buffer, deadline.Token);
            }
            else
            {
                received = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            }

            socket.LingerState = new LingerOption(enable: true, seconds: 0);
            return received > 0;
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException or AuthenticationException or IOException
            && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static SslClientAuthenticationOptions ClientOptions(ClusterTls tls) => new()
    {
        TargetHost = "shards-silo",
        ClientCertificates = [tls.Certificate],
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, _, _) => tls.Trusts(certificate as X509Certificate2),
    };
}
