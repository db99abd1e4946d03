using System.Security.Cryptography;
using System.Text;

namespace Shards.Api.Security;

/// <summary>
/// The configured API keys, compared in constant time. Keys are kept only as SHA-256 digests and never logged: a
/// caller is known by the key's position (<c>key-1</c>, <c>key-2</c>...), which is also its rate-limit partition,
/// and, where something is stored per caller (<c>Idempotency-Key</c> records), by its <see cref="ApiKeyMatch.Principal"/>.
/// </summary>
public sealed class ApiKeys
{
    public const string HeaderName = "X-Api-Key";

    /// <summary>Mixed into a key before hashing it into a principal, so the stored value is no plain digest of the key.</summary>
    private const string PrincipalContext = "shards-api-principal\n";

    private readonly byte[][] _digests;
    private readonly string[] _principals;

    public ApiKeys(IEnumerable<string> keys)
    {
        var list = keys.ToList();
        _digests = list.Select(Digest).ToArray();
        _principals = list.Select(PrincipalOf).ToArray();
    }

    public bool IsEmpty => _digests.Length == 0;

    /// <summary>
    /// The key that matches <paramref name="presented"/>, or null. Every configured key is compared (no early exit)
    /// over fixed-length digests, so the time taken tells nothing about the keys.
    /// </summary>
    public ApiKeyMatch? Match(string presented)
    {
        var digest = Digest(presented);
        var match = -1;
        for (var i = 0; i < _digests.Length; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, _digests[i]))
            {
                match = i;
            }
        }

        return match < 0 ? null : new ApiKeyMatch($"key-{match + 1}", _principals[match]);
    }

    /// <summary>
    /// A stable, non-secret identifier of <paramref name="key"/>: 16 hex digits of a SHA-256 of the key (with a fixed
    /// context). It stays the same when keys are added or reordered, differs between keys, and does not reveal the key.
    /// </summary>
    public static string PrincipalOf(string key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(PrincipalContext + key)))[..16];

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

/// <summary>A configured key that matched: its name by position (<c>key-1</c>) and its stable principal.</summary>
public sealed record ApiKeyMatch(string Name, string Principal);
