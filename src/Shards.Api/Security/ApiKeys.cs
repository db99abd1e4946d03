using System.Security.Cryptography;
using System.Text;

namespace Shards.Api.Security;

/// <summary>
/// The configured API keys and their scopes, compared in constant time. Keys are kept only as SHA-256 digests and never
/// logged: a caller is known by the key's position (<c>key-1</c>, <c>key-2</c>... under <c>Shards:Api:Keys</c>,
/// <c>scoped-key-1</c>... under <c>Shards:Api:ScopedKeys</c>), which is also its rate-limit partition, and, where
/// something is stored per caller (<c>Idempotency-Key</c> records), by its <see cref="ApiKeyMatch.Principal"/>.
/// </summary>
public sealed class ApiKeys
{
    public const string HeaderName = "X-Api-Key";

    /// <summary>Mixed into a key before hashing it into a principal, so the stored value is no plain digest of the key.</summary>
    private const string PrincipalContext = "shards-api-principal\n";

    private readonly byte[][] _digests;
    private readonly ApiKeyMatch[] _matches;

    /// <summary>
    /// Plain keys (<c>key-N</c>, every scope) and scoped keys (<c>scoped-key-N</c>) as configured; the options were
    /// validated (<c>ShardsApiOptionsValidator</c>), so every scope list is known.
    /// </summary>
    public ApiKeys(IEnumerable<string> keys, IEnumerable<(string Key, string Scopes)>? scopedKeys = null)
    {
        var plain = keys.Select((key, i) => (Key: key, Match: new ApiKeyMatch($"key-{i + 1}", PrincipalOf(key), ApiScopes.All)));
        var scoped = (scopedKeys ?? []).Select((k, i) =>
            (k.Key, Match: new ApiKeyMatch($"scoped-key-{i + 1}", PrincipalOf(k.Key), ApiScopes.Parse(k.Scopes, out _) ?? [])));
        var all = plain.Concat(scoped).ToList();
        _digests = all.Select(k => Digest(k.Key)).ToArray();
        _matches = all.Select(k => k.Match).ToArray();
    }

    /// <summary>The keys of <c>Shards:Api:Keys</c> and <c>Shards:Api:ScopedKeys</c>.</summary>
    public static ApiKeys From(Options.ShardsApiOptions options) =>
        new(options.Keys, options.ScopedKeys.Select(entry => (entry.Key, entry.Scopes)));

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

        return match < 0 ? null : _matches[match];
    }

    /// <summary>
    /// A stable, non-secret identifier of <paramref name="key"/>: 16 hex digits of a SHA-256 of the key (with a fixed
    /// context). It stays the same when keys are added or reordered, differs between keys, and does not reveal the key.
    /// </summary>
    public static string PrincipalOf(string key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(PrincipalContext + key)))[..16];

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

/// <summary>A configured key that matched: its name by position (<c>key-1</c>), its stable principal, and its scopes.</summary>
public sealed record ApiKeyMatch(string Name, string Principal, IReadOnlyList<string> Scopes);
