namespace Shards.Client;

/// <summary>
/// Optional TLS on the Orleans connections: silo to silo and client to gateway (section <c>Shards:Tls</c>; off by
/// default). Every silo and client of a cluster presents the same cluster certificate and accepts a peer only when it
/// presents that certificate too (or one listed in <see cref="TrustedThumbprints"/>): a client without it, or with
/// another one, is refused during the handshake. The certificate comes from a PKCS#12 file or from a certificate
/// store. Its password is a secret: give it through the environment (<c>Shards__Tls__CertificatePassword</c>) or user
/// secrets, never in a file of the repository. See docs/security.md.
/// </summary>
public sealed class ShardsTlsOptions
{
    public const string Section = "Shards:Tls";

    public bool Enabled { get; set; }

    /// <summary>A PKCS#12 (.pfx / .p12) file holding the cluster certificate and its private key.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Password of <see cref="CertificatePath"/>; a secret (environment or user secrets only). Never logged.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Instead of a file: the subject (e.g. <c>CN=shards-cluster</c>) of a certificate in <see cref="StoreName"/>.</summary>
    public string? StoreSubject { get; set; }

    /// <summary>Certificate store searched for <see cref="StoreSubject"/> (My, Root, ...).</summary>
    public string StoreName { get; set; } = "My";

    /// <summary>CurrentUser or LocalMachine.</summary>
    public string StoreLocation { get; set; } = "CurrentUser";

    /// <summary>
    /// SHA-1 thumbprints of other certificates a peer may present (e.g. the next certificate during a rotation);
    /// the cluster certificate itself is always trusted.
    /// </summary>
    public IList<string> TrustedThumbprints { get; } = [];

    /// <summary>Longest TLS handshake; a peer that does not finish it in time is dropped.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
