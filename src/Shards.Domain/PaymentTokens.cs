namespace Shards.Domain;

/// <summary>
/// A payment token is a secret: whoever has it can pay with the card behind it. What is shown to people (HTTP order
/// views, the CLI) is a hint instead: <c>****</c> and its last 4 characters, fewer for a token under 12 characters (at
/// most a third of it), so a hint never gives the token away.
/// </summary>
public static class PaymentTokens
{
    public const string Mask = "****";

    /// <summary>The hint of <paramref name="token"/>: <c>tok-card-secret-4242</c> is <c>****4242</c>, <c>tok-visa</c> is <c>****sa</c>.</summary>
    public static string Hint(string token) => Mask + token[^Math.Min(4, token.Length / 3)..];

    /// <summary><paramref name="text"/> with every occurrence of <paramref name="token"/> replaced by its hint (a step's detail, a failure reason).</summary>
    public static string Redact(string text, string token) =>
        string.IsNullOrEmpty(token) ? text : text.Replace(token, Hint(token), StringComparison.Ordinal);
}
