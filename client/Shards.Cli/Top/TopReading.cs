using Shards.Contracts.Operations;
using Shards.Json;
using Shards.Postgres;

namespace Shards.Cli.Top;

/// <summary>
/// One reading of a cluster for <c>shards top</c>: its silo rows that are not Dead, and per silo address (Orleans'
/// text, <see cref="MembershipRow.SiloAddress"/>) the activations of Shards' grains and the cumulative call counts.
/// A dictionary is null when that read failed (a silo left while it ran): its columns show "-".
/// </summary>
/// <param name="At">When it was taken, on a monotonic clock (time since <c>shards top</c> started).</param>
internal sealed record TopReading(
    TimeSpan At,
    DateTimeOffset TakenAt,
    IReadOnlyList<MembershipRow> Members,
    IReadOnlyDictionary<string, long>? Activations,
    IReadOnlyDictionary<string, SiloCallCounts>? Calls);

/// <summary>One line of <c>shards top</c>: a silo, its status, activations, and its rates since the previous reading.</summary>
internal sealed record TopRow(
    string Name, string Address, string Status, long? Activations, double? CallsPerSecond, double? ErrorsPerSecond, long? Calls, long? Errors);

/// <summary>The rows of one refresh: what two consecutive readings say (pure, so that tests need no cluster).</summary>
internal static class TopRows
{
    public static IReadOnlyList<string> Headers { get; } = ["SILO", "ADDRESS", "STATUS", "ACTIVATIONS", "CALLS/S", "ERRORS/S", "CALLS", "ERRORS"];

    /// <summary>
    /// One row per silo of <paramref name="current"/>. Rates are the counts' growth since <paramref name="previous"/> over
    /// the time between the readings; null (shown "-") without a previous count of that silo, or when it went down.
    /// </summary>
    public static IReadOnlyList<TopRow> Between(TopReading? previous, TopReading current)
    {
        var seconds = previous is null ? 0 : (current.At - previous.At).TotalSeconds;
        return current.Members.Select(member =>
        {
            var key = member.SiloAddress;
            var now = current.Calls?.GetValueOrDefault(key);
            var before = previous?.Calls?.GetValueOrDefault(key);
            double? Rate(Func<SiloCallCounts, long> count) =>
                now is not null && before is not null && seconds > 0 && count(now) >= count(before) ? (count(now) - count(before)) / seconds : null;
            return new TopRow(
                member.SiloName,
                $"{member.Endpoint}@{member.Generation}",
                ShardsJson.Name(member.Status),
                current.Activations is { } activations ? activations.GetValueOrDefault(key) : null,
                Rate(c => c.Calls),
                Rate(c => c.Errors),
                now?.Calls,
                now?.Errors);
        }).ToList();
    }

    /// <summary>The cells of a row, as both the live table and the plain snapshot print them.</summary>
    public static IReadOnlyList<string> Cells(TopRow row) =>
    [
        row.Name, row.Address, row.Status, Text(row.Activations), Text(row.CallsPerSecond), Text(row.ErrorsPerSecond), Text(row.Calls), Text(row.Errors),
    ];

    private static string Text(long? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-";

    private static string Text(double? value) => value?.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) ?? "-";
}
