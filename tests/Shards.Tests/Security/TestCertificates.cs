using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Shards.Tests.Security;

/// <summary>Self-signed certificates made by the tests (CertificateRequest), written as password-protected .pfx files.</summary>
public static class TestCertificates
{
    /// <summary>A self-signed RSA certificate for server and client authentication, valid for a day.</summary>
    public static X509Certificate2 SelfSigned(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false)); // server and client authentication
        var subjectNames = new SubjectAlternativeNameBuilder();
        subjectNames.AddIpAddress(System.Net.IPAddress.Loopback);
        subjectNames.AddDnsName("localhost");
        request.CertificateExtensions.Add(subjectNames.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12, string.Empty), string.Empty, X509KeyStorageFlags.Exportable);
    }

    /// <summary>Writes <paramref name="certificate"/> with its key to a temp .pfx protected by <paramref name="password"/>.</summary>
    public static string WritePfx(X509Certificate2 certificate, string password)
    {
        var path = Path.Combine(Path.GetTempPath(), $"shards-tls-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        return path;
    }
}
