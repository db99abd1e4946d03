using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Shards.Client;

namespace Shards.LocalCluster;

/// <summary>
/// The TLS certificate of a local cluster started with <c>shards cluster up --tls</c>: a self-signed certificate made
/// once in <c>.shards/tls/cluster.pfx</c> (git ignores <c>.shards/</c>) with a random password beside it, both readable
/// by their owner only. While <c>.shards/tls/enabled</c> exists (written by <c>cluster up --tls</c>, removed by a
/// <c>cluster up</c> without it) the other commands of this checkout connect with it. A real deployment gives its own
/// certificate through <c>Shards__Tls__*</c> instead.
/// </summary>
public static class LocalTlsCertificate
{
    public static readonly string Directory = Path.Combine(".shards", "tls");
    private static readonly string s_certificate = Path.Combine(Directory, "cluster.pfx");
    private static readonly string s_password = Path.Combine(Directory, "cluster.password");
    private static readonly string s_enabled = Path.Combine(Directory, "enabled");

    /// <summary>The local cluster's TLS settings, creating the certificate when missing, and marks TLS as on.</summary>
    public static ShardsTlsOptions LoadOrCreate()
    {
        System.IO.Directory.CreateDirectory(Directory);
        if (!File.Exists(s_certificate) || !File.Exists(s_password))
        {
            var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            using var certificate = CreateSelfSigned();
            WritePrivate(s_certificate, certificate.Export(X509ContentType.Pkcs12, password));
            WritePrivate(s_password, System.Text.Encoding.UTF8.GetBytes(password));
        }

        File.WriteAllText(s_enabled, "shards cluster up --tls\n");
        return Current()!;
    }

    /// <summary>The local cluster runs without TLS: the other commands stop using the certificate.</summary>
    public static void MarkDisabled()
    {
        if (File.Exists(s_enabled))
        {
            File.Delete(s_enabled);
        }
    }

    /// <summary>The local cluster's TLS settings while it runs with TLS; null otherwise.</summary>
    public static ShardsTlsOptions? Current() =>
        File.Exists(s_enabled) && File.Exists(s_certificate) && File.Exists(s_password)
            ? new ShardsTlsOptions
            {
                Enabled = true,
                CertificatePath = Path.GetFullPath(s_certificate),
                CertificatePassword = File.ReadAllText(s_password).Trim(),
            }
            : null;

    private static X509Certificate2 CreateSelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=shards-local-cluster", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication"), new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
    }

    private static void WritePrivate(string path, byte[] content)
    {
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        stream.Write(content);
    }
}
