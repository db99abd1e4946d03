using System.Globalization;
using System.Text.RegularExpressions;

namespace Shards.Tests.Observability;

/// <summary>Reads samples out of a Prometheus text exposition: <c>name{label="value",...} number</c>.</summary>
public static partial class PrometheusText
{
    /// <summary>Every sample of metric <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    public static IReadOnlyList<double> Samples(string text, string name, params (string Label, string Value)[] labels) =>
        text.Split('\n')
            .Select(line => SampleLine().Match(line))
            .Where(m => m.Success && m.Groups["name"].Value == name)
            .Where(m => labels.All(l => m.Groups["labels"].Value.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            .Select(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture))
            .ToList();

    /// <summary>The single sample of <paramref name="name"/> with <paramref name="labels"/>, or null.</summary>
    public static double? Value(string text, string name, params (string Label, string Value)[] labels) =>
        Samples(text, name, labels) is [var only] ? only : null;

    public static bool Has(string text, string name) => Samples(text, name).Count > 0;

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>[-+0-9.eE]+|NaN|\+Inf|-Inf)( \d+)?\r?$")]
    private static partial Regex SampleLine();
}
