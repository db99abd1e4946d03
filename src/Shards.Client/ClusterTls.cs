using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;
using Microsoft.Extensions.Options;

namespace Shards.Client;

/// <summary>
/// The cluster certificate of <see cref="ShardsTlsOptions"/> and the TLS rules silos and clients share: TLS 1.2/1.3,
/// a certificate required on both sides, and a peer accepted only when its certificate is the cluster's own (or a
/// trusted thumbprint). A self-signed cluster certificate works: trust comes from the pinned thumbprint, not from a
/// certificate authority.
/// </summary>
public sealed class ClusterTls
{
    private readonly HashSet<string> _trusted;

    private ClusterTls(X509Certificate2 certificate, ShardsTlsOptions options)
    {
        Certificate = certificate;
        HandshakeTimeout = options.HandshakeTimeout;
        _trusted = new HashSet<string>(options.TrustedThumbprints.Select(Normalise), StringComparer.Ordinal) { Normalise(certificate.Thumbprint) };
    }

    public X509Certificate2 Certificate { get; }

    public TimeSpan HandshakeTimeout { get; }

    /// <summary>
    /// The cluster TLS of <paramref name="options"/>; null when TLS is off. Throws <see cref="InvalidOperationException"/>
    /// with a message a person can act on when the certificate cannot be loaded (the password never appears in it).
    /// </summary>
    public static ClusterTls? From(ShardsTlsOptions? options)
    {
        if (options is not { Enabled: true })
        {
            return null;
        }

        if (options.HandshakeTimeout <= TimeSpan.Zero)
        {
            throw Invalid($"Shards:Tls:HandshakeTimeout must be positive (got {options.HandshakeTimeout}).");
        }

        return new ClusterTls(Load(options), options);
    }

    /// <summary>Whether a peer presenting <paramref name="certificate"/> is a member of this cluster.</summary>
    public bool Trusts(X509Certificate2? certificate) => certificate is not null && _trusted.Contains(Normalise(certificate.Thumbprint));

    /// <summary>Orleans' TLS settings for this cluster, on a silo or a client.</summary>
    public void Configure(TlsOptions tls)
    {
        tls.LocalCertificate = Certificate;
        tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13;
        tls.HandshakeTimeout = HandshakeTimeout;
        tls.RemoteCertificateValidation = (certificate, _, _) => Trusts(certificate);
    }

    private static X509Certificate2 Load(ShardsTlsOptions options)
    {
        var certificate = !string.IsNullOrWhiteSpace(options.CertificatePath) ? LoadFile(options)
            : !string.IsNullOrWhiteSpace(options.StoreSubject) ? LoadFromStore(options)
            : throw Invalid(
                "Shards:Tls:Enabled is true but no certificate is configured: set Shards__Tls__CertificatePath (a .pfx) and " +
                "Shards__Tls__CertificatePassword, or Shards__Tls__StoreSubject.");
        if (!certificate.HasPrivateKey)
        {
            throw Invalid(
                $"The TLS certificate {certificate.Subject} ({certificate.Thumbprint}) has no private key: a silo cannot prove it owns it. Export it with its key (.pfx).");
        }

        var now = DateTime.Now;
        if (now < certificate.NotBefore || now > certificate.NotAfter)
        {
            throw Invalid(
                $"The TLS certificate {certificate.Subject} ({certificate.Thumbprint}) is valid from {certificate.NotBefore:u} to {certificate.NotAfter:u}, not now.");
        }

        return certificate;
    }

    private static X509Certificate2 LoadFile(ShardsTlsOptions options)
    {
        var path = Path.GetFullPath(options.CertificatePath!);
        if (!File.Exists(path))
        {
            throw Invalid($"The TLS certificate file {path} (Shards:Tls:CertificatePath) does not exist.");
        }

        try
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException)
        {
            throw Invalid(
                $"The TLS certificate file {path} could not be opened: not a PKCS#12 (.pfx) file, or Shards:Tls:CertificatePassword is wrong.");
        }
    }

    private static X509Certificate2 LoadFromStore(ShardsTlsOptions options)
    {
        if (!Enum.TryParse<StoreName>(options.StoreName, ignoreCase: true, out var name) ||
            !Enum.TryParse<StoreLocation>(options.StoreLocation, ignoreCase: true, out var location))
        {
            throw Invalid(
                $"Shards:Tls:StoreName '{options.StoreName}' / StoreLocation '{options.StoreLocation}' is not a certificate store (e.g. My / CurrentUser).");
        }

        using var store = new X509Store(name, location);
        store.Open(OpenFlags.ReadOnly);
        var found = store.Certificates.Find(X509FindType.FindBySubjectDistinguishedName, options.StoreSubject!, validOnly: false);
        return found.Count > 0 ? found[0] : throw Invalid(
            $"No certificate with subject '{options.StoreSubject}' in the {location}/{name} store (Shards:Tls:StoreSubject).");
    }

    private static string Normalise(string thumbprint) => thumbprint.Replace(":", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal).ToUpperInvariant();

    /// <summary>A setting that cannot work: the same exception as an options validator's, so hosts report it alike.</summary>
    private static OptionsValidationException Invalid(string message) => new(Microsoft.Extensions.Options.Options.DefaultName, typeof(ShardsTlsOptions), [message]);
}
