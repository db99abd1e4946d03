using Shards.Contracts.Common;

namespace Shards.Load;

/// <summary>How a failed call reads in the report and in the history: its kind and its message on one short line.</summary>
internal static class FailureText
{
    private const int MaxLength = 160;
    private const string Ellipsis = "...";

    /// <summary>The exception type, with the Shards error code when the store said why.</summary>
    public static string KindOf(Exception failure) =>
        ShardsFailures.Find(failure) is { } shards ? $"ShardsException({shards.Code})" : failure.GetType().Name;

    /// <summary><paramref name="message"/> on one line, cut to at most 160 characters.</summary>
    public static string OneLine(string message)
    {
        var line = message.ReplaceLineEndings(" ");
        return line.Length <= MaxLength ? line : line[..(MaxLength - Ellipsis.Length)] + Ellipsis;
    }
}
