namespace Shards.Domain;

/// <summary>
/// Rules for the IDs that key grains: SKUs, cart IDs and order IDs (and payment tokens) are 1 to 64 characters of ASCII letters, digits,
/// '_', '.' and '-', and start with a letter or digit (so they are safe in a URL, a shell and a log line).
/// They must also hold at least one character that is not a hexadecimal digit: Orleans' ADO.NET storage reads a
/// key made only of 0-9/a-f as a number, so "1001" and "01001" (or "abc" and "0ABC") would share one record.
/// </summary>
public static class Identifiers
{
    public const int MaxLength = 64;

    private const string Rule =
        "1 to 64 characters of letters (A-Z, a-z), digits, '_', '.' or '-', starting with a letter or digit, " +
        "with at least one character that is not a hexadecimal digit";

    /// <summary>Returns <paramref name="sku"/> when it is a valid SKU; throws a Validation error otherwise.</summary>
    public static string ValidateSku(string? sku) => Validate(sku, "A SKU", "sku-1001");

    /// <summary>Returns <paramref name="cartId"/> when it is a valid cart ID; throws a Validation error otherwise.</summary>
    public static string ValidateCartId(string? cartId) => Validate(cartId, "A cart ID", "cart-1001");

    /// <summary>Returns <paramref name="orderId"/> when it is a valid order ID; throws a Validation error otherwise.</summary>
    public static string ValidateOrderId(string? orderId) => Validate(orderId, "An order ID", "order-1001");

    /// <summary>
    /// Returns <paramref name="token"/> when it is a valid payment token (a card token such as tok-visa, never a card
    /// number); throws a Validation error otherwise.
    /// </summary>
    public static string ValidatePaymentToken(string? token) => Validate(token, "A payment token", "tok-visa");

    /// <summary>True when <paramref name="value"/> follows the ID rule.</summary>
    public static bool IsValid(string? value) => Problem(value) is null;

    /// <param name="kind">What the value is, with its article: "A SKU", "An order ID".</param>
    /// <param name="example">A valid value of that kind, for the message.</param>
    private static string Validate(string? value, string kind, string example)
    {
        var problem = Problem(value);
        if (problem is not null)
        {
            var what = kind[(kind.IndexOf(' ', StringComparison.Ordinal) + 1)..];
            throw DomainRuleException.Validation($"Invalid {what} {Text.Quote(value)}: {problem}. {kind} is {Rule} (e.g. {example}).");
        }

        return value!;
    }

    private static string? Problem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "it is empty";
        }

        if (value.Length > MaxLength)
        {
            return $"it is {value.Length} characters long";
        }

        if (!char.IsAsciiLetterOrDigit(value[0]))
        {
            return "it must start with a letter or digit";
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                return $"the character {ShowChar(c)} at position {i + 1} is not allowed";
            }
        }

        if (value.All(char.IsAsciiHexDigit))
        {
            return "it is made only of hexadecimal digits (0-9, a-f), which storage would read as a number";
        }

        return null;
    }

    private static string ShowChar(char c) =>
        char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}'";
}
