namespace Shards.Api.Security;

/// <summary>
/// What an API key may do. Every route needs one scope; a key has the scopes it was given
/// (<c>Shards:Api:ScopedKeys:N:Scopes</c>), or all of them when it is a plain key (<c>Shards:Api:Keys:N</c>).
/// Scopes do not imply each other: a shop front's key is <c>read,write</c>.
/// </summary>
public static class ApiScopes
{
    /// <summary>GET products, carts and orders.</summary>
    public const string Read = "read";

    /// <summary>Change carts and check them out: what a shop front needs (with <see cref="Read"/>).</summary>
    public const string Write = "write";

    /// <summary>Create and replace products (names, prices, stock), reserve and release stock.</summary>
    public const string Catalog = "catalog";

    /// <summary>The cluster: members, where a key lives, readiness details, <c>/metrics</c>, the Orleans Dashboard.</summary>
    public const string Operator = "operator";

    private static readonly string[] s_all = [Read, Write, Catalog, Operator];

    /// <summary>Every scope, in the order they are listed to people.</summary>
    public static IReadOnlyList<string> All => s_all;

    /// <summary>The name of the authorization policy that requires <paramref name="scope"/> of an <c>X-Api-Key</c>.</summary>
    public static string PolicyName(string scope) => "scope:" + scope;

    /// <summary>
    /// Reads a list such as <c>read,write</c> (commas or spaces between names, any case). Null with
    /// <paramref name="unknown"/> set when a name is not a scope; an empty list when none is given.
    /// </summary>
    public static IReadOnlyList<string>? Parse(string? list, out string? unknown)
    {
        unknown = null;
        var scopes = new List<string>();
        foreach (var name in (list ?? string.Empty).Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var scope = All.FirstOrDefault(s => s.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (scope is null)
            {
                unknown = name;
                return null;
            }

            if (!scopes.Contains(scope, StringComparer.Ordinal))
            {
                scopes.Add(scope);
            }
        }

        return scopes.OrderBy(s => Array.IndexOf(s_all, s)).ToList();
    }

    /// <summary>Scopes as people read them: <c>read, write</c>, or <c>none</c>.</summary>
    public static string Describe(IEnumerable<string> scopes) => scopes.Any() ? string.Join(", ", scopes) : "none";
}
