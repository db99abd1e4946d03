using Microsoft.Extensions.Options;
using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shards.Client;
using Shards.Contracts.Catalog;
using Shards.Postgres;
using Shards.Tests.Api;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Security;

/// <summary>
/// Optional TLS on the Orleans connections (Shards:Tls): two silos with a self-signed cluster certificate made here
/// form a cluster over TLS, a client with the certificate works, and clients without it (plain TCP) or with another
/// self-signed certificate are refused.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class TlsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Password = "test-only-pfx-password";

    [Fact(Timeout = 180_000)]
    public async Task Silos_talk_tls_a_client_with_the_cluster_certificate_works_and_clients_without_it_are_refused()
    {
        using var certificate = TestCertificates.SelfSigned("shards-test-cluster");
        using var stranger = TestCertificates.SelfSigned("shards-test-stranger");
        var pfx = TestCertificates.WritePfx(certificate, Password);
        var strangerPfx = TestCertificates.WritePfx(stranger, Password);
        try
        {
            var connectionString = await TestPostgres.CreateDatabaseAsync("tls");
            var clusterId = $"tls-{Guid.NewGuid():N}"[..12];
            string[] tls = ["Shards:Tls:Enabled=true", $"Shards:Tls:CertificatePath={pfx}", $"Shards:Tls:CertificatePassword={Password}"];
            await using var first = ApiSilo.Start(connectionString, [$"Shards:Cluster:ClusterId={clusterId}", "Shards:Silo:Name=tls-1", .. tls]);
            await first.Started;
            await using var second = ApiSilo.Start(connectionString, [$"Shards:Cluster:ClusterId={clusterId}", "Shards:Silo:Name=tls-2", .. tls]);
            await second.Started;
            var cluster = new ShardsClusterOptions { ClusterId = clusterId };

            var members = await MembershipTableReader.ReadAsync(connectionString, clusterId);
            Assert.Equal(2, members.Count(m => m.Status == SiloStatusCode.Active));

            using (var trusted = await ConnectAsync(connectionString, cluster, ClusterTls.From(Tls(pfx))))
            {
                var grains = trusted.Services.GetRequiredService<IClusterClient>();
                for (var i = 0; i < 8; i++)
                {
                    // Several keys, so that some live on each silo: the silos forward over their TLS connection.
                    var sku = $"sku-tls-{i}";
                    await grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition("Padlock", 9.5m, 3 + i));
                    Assert.Equal(3 + i, (await grains.GetGrain<IProductGrain>(sku).GetAsync())!.Stock);
                }

                await trusted.StopAsync();
            }

            var plain = await RefusedAsync(connectionString, cluster, tls: null);
            var untrusted = await RefusedAsync(connectionString, cluster, ClusterTls.From(Tls(strangerPfx)));

            output.WriteLine($"plain: {plain.Message}");
            output.WriteLine($"untrusted: {untrusted.Message}");
            Assert.Contains("Shards__Tls__CertificatePath", plain.Message, StringComparison.Ordinal);
            Assert.Contains("refused this client's TLS handshake", untrusted.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(pfx);
            File.Delete(strangerPfx);
        }
    }

    [Fact]
    public void Tls_configuration_errors_are_clear_and_never_show_the_password()
    {
        using var certificate = TestCertificates.SelfSigned("shards-test-config");
        var pfx = TestCertificates.WritePfx(certificate, Password);
        try
        {
            var noCertificate = Assert.Throws<OptionsValidationException>(() => ClusterTls.From(new ShardsTlsOptions { Enabled = true }));
            var missing = Assert.Throws<OptionsValidationException>(() => ClusterTls.From(Tls("/nonexistent/cluster.pfx")));
            var wrongPassword = Assert.Throws<OptionsValidationException>(() =>
                ClusterTls.From(new ShardsTlsOptions { Enabled = true, CertificatePath = pfx, CertificatePassword = "wrong-secret-value" }));

            Assert.Null(ClusterTls.From(new ShardsTlsOptions()));
            Assert.Contains("Shards__Tls__CertificatePath", noCertificate.Message, StringComparison.Ordinal);
            Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
            Assert.Contains("password", wrongPassword.Message, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("wrong-secret-value", wrongPassword.Message, StringComparison.Ordinal);
            var loaded = ClusterTls.From(Tls(pfx))!;
            Assert.True(loaded.Trusts(X509CertificateLoader.LoadCertificate(certificate.RawData)));
        }
        finally
        {
            File.Delete(pfx);
        }
    }

    [Fact]
    public void A_silo_with_tls_on_and_no_usable_certificate_does_not_start_and_says_why()
    {
        var error = Assert.Throws<OptionsValidationException>(() => ApiSiloBuild(["Shards:Tls:Enabled=true", "Shards:Tls:CertificatePath=/nonexistent/cluster.pfx"]));

        Assert.Contains("/nonexistent/cluster.pfx", error.Message, StringComparison.Ordinal);
    }

    private static void ApiSiloBuild(string[] settings) =>
        Shards.Server.Silo.ShardsSiloHost.Build(["--ConnectionStrings:Shards=Host=127.0.0.1;Database=none", .. settings.Select(s => $"--{s}")]);

    private static ShardsTlsOptions Tls(string pfx) => new() { Enabled = true, CertificatePath = pfx, CertificatePassword = Password };

    private static async Task<IHost> ConnectAsync(string connectionString, ShardsClusterOptions cluster, ClusterTls? tls)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.AddShardsClient(connectionString, cluster, new ShardsClientOptions { ConnectTimeout = TimeSpan.FromSeconds(3) }, tls);
        var host = builder.Build();
        try
        {
            await host.StartAsync();
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>Connecting fails within the connect timeout (plus slack): no hang, and an exception that says what failed.</summary>
    private static async Task<Exception> RefusedAsync(string connectionString, ShardsClusterOptions cluster, ClusterTls? tls)
    {
        var watch = Stopwatch.StartNew();
        var error = await Record.ExceptionAsync(async () =>
        {
            using var host = await ConnectAsync(connectionString, cluster, tls);
            await host.Services.GetRequiredService<IClusterClient>().GetGrain<IProductGrain>("sku-tls-0").GetAsync();
        });

        Assert.NotNull(error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"refusal took {watch.Elapsed}");
        return ClusterUnreachableException.For(cluster.ClusterId, TimeSpan.FromSeconds(3), error!, tls is not null);
    }
}
