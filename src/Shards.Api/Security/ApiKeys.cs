using System.Security.Cryptography;
using System.Text;

namespace Shards.Api.Security;

/// <summary>
/// The configured API keys, compared in constant time. Keys are kept only as SHA-256 digests and never logged: a
/// caller is known by the key's position (<c>key-1</c>, <c>key-2</c>...), which is also its rate-limit partition.
/// </summary>
public sealed class ApiKeys
{
    public const string HeaderName = "X-Api-Key";

    private readonly byte[][] _digests;

    public ApiKeys(IEnumerable<string> keys) => _digests = keys.Select(Digest).ToArray();

    public bool IsEmpty => _digests.Length == 0;

    /// <summary>
    /// The name of the key that matches <paramref name="presented"/>, or null. Every configured key is compared
    /// (no early exit) over fixed-length digests, so the time taken tells nothing about the keys.
    /// </summary>
    public string? Match(string presented)
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

        return match < 0 ? null : $"key-{match + 1}";
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
