using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Orleans.Runtime;
using Shards.Client;
using Shards.Server.Lease;
using Shards.Tests.Security;

namespace Shards.Tests.Lease;

/// <summary>
/// The lease's real probe: a TCP connection to the peer's silo endpoint on which the peer starts writing (its Orleans
/// preamble), closed at once; under cluster TLS only after a handshake with a peer presenting a trusted certificate.
/// Anything else counts as not reached, within the timeout.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class TcpSiloProbeTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMilliseconds(750);

    [Fact(Timeout = 30_000)]
    public async Task A_silo_that_accepts_the_connection_and_starts_its_preamble_is_reached()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptTcpClientAsync();
            await accepted.GetStream().WriteAsync(new byte[] { 1, 2, 3 }); // as a silo writes its connection preamble at once
        });

        var reached = await new TcpSiloProbe(tls: null).ProbeAsync(SiloAt(listener), TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.True(reached);
        await server.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_port_whose_process_never_accepts_like_a_frozen_silo_is_not_reached_within_the_timeout()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(); // the kernel completes connections into the backlog; nobody accepts or writes
        var watch = Stopwatch.StartNew();

        var reached = await new TcpSiloProbe(tls: null).ProbeAsync(SiloAt(listener), s_timeout, CancellationToken.None);

        Assert.False(reached);
        Assert.True(watch.Elapsed < s_timeout + TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_port_nobody_listens_on_is_not_reached_and_the_probe_does_not_throw()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var silo = SiloAt(listener);
        listener.Stop();
        var watch = Stopwatch.StartNew();

        var reached = await new TcpSiloProbe(tls: null).ProbeAsync(silo, s_timeout, CancellationToken.None);

        Assert.False(reached);
        Assert.True(watch.Elapsed < s_timeout + TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }

    [Fact(Timeout = 30_000)]
    public async Task Under_cluster_tls_a_peer_is_reached_only_through_a_handshake_with_a_trusted_certificate()
    {
        using var cluster = TestCertificates.SelfSigned("shards-cluster");
        using var stranger = TestCertificates.SelfSigned("someone-else");
        var tls = Tls(cluster);

        Assert.True(await ProbeTlsServerAsync(cluster, tls));
        Assert.False(await ProbeTlsServerAsync(stranger, tls));
        Assert.False(await ProbeBareServerAsync(tls)); // a port that never answers the handshake is not a silo of this cluster
    }

    private static async Task<bool> ProbeTlsServerAsync(X509Certificate2 serverCertificate, ClusterTls tls)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            await using var stream = new SslStream(client.GetStream());
            try
            {
                await stream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = serverCertificate,
                    ClientCertificateRequired = true,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
                });
                await stream.WriteAsync(new byte[] { 1, 2, 3 }); // the silo's preamble, inside TLS
            }
            catch (Exception exception) when (exception is AuthenticationException or IOException)
            {
                // the probe refused this server's certificate
            }
        });

        // A generous timeout: this test is about whom the probe trusts; a busy test run can slow a handshake past 0.75 s.
        var reached = await new TcpSiloProbe(tls).ProbeAsync(SiloAt(listener), TimeSpan.FromSeconds(10), CancellationToken.None);
        await server.WaitAsync(TimeSpan.FromSeconds(10));
        return reached;
    }

    private static async Task<bool> ProbeBareServerAsync(ClusterTls tls)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return await new TcpSiloProbe(tls).ProbeAsync(SiloAt(listener), s_timeout, CancellationToken.None);
    }

    private static ClusterTls Tls(X509Certificate2 certificate)
    {
        var path = TestCertificates.WritePfx(certificate, "probe-test");
        try
        {
            return ClusterTls.From(new ShardsTlsOptions { Enabled = true, CertificatePath = path, CertificatePassword = "probe-test" })!;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static SiloAddress SiloAt(TcpListener listener) => SiloAddress.New((IPEndPoint)listener.LocalEndpoint, 1);
}
