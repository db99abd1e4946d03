using System.Globalization;

namespace Shards.Domain;

/// <summary>Formats values for messages a person reads: invariant culture, rejected input quoted and shortened.</summary>
internal static class Text
{
    private const int MaxQuoted = 40;

    public static string Count(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    public static string Money(decimal value) => value.ToString("#,0.##########", CultureInfo.InvariantCulture);

    /// <summary>Quotes a rejected value, shortened, with control characters made visible.</summary>
    public static string Quote(string? value)
    {
        if (value is null)
        {
            return "(none)";
        }

        var shortened = value.Length > MaxQuoted ? string.Concat(value.AsSpan(0, MaxQuoted), "...") : value;
        var visible = string.Concat(shortened.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()));
        return $"'{visible}'";
    }
}
