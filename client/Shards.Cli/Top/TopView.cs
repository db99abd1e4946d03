using System.Text.Json;
using Shards.Cli.Core;
using Shards.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Shards.Cli.Top;

/// <summary>How <c>shards top</c> shows a refresh: a live table in a terminal, else a plain snapshot or a JSON line.</summary>
internal static class TopView
{
    private static readonly JsonSerializerOptions s_jsonLine = ShardsJson.Options;

    /// <summary>The live table (Spectre.Console): numbers right-aligned, errors in red when there are any.</summary>
    public static IRenderable Table(string clusterId, TopReading reading, IReadOnlyList<TopRow> rows)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]shards top[/]: cluster '{Markup.Escape(clusterId)}', {Summary(rows)}")
            .Caption($"{reading.TakenAt:HH:mm:ss} UTC · calls to Shards' grains served by each silo · Ctrl+C to quit");
        foreach (var (header, index) in TopRows.Headers.Select((h, i) => (h, i)))
        {
            table.AddColumn(new TableColumn(header) { Alignment = index >= 3 ? Justify.Right : Justify.Left });
        }

        foreach (var row in rows)
        {
            var cells = TopRows.Cells(row).Select(Markup.Escape).ToArray();
            cells[2] = row.Status == "Active" ? $"[green]{cells[2]}[/]" : $"[yellow]{cells[2]}[/]";
            if (row.ErrorsPerSecond > 0)
            {
                cells[5] = $"[red]{cells[5]}[/]";
            }

            table.AddRow(cells);
        }

        return table;
    }

    /// <summary>A plain snapshot for a pipe or file: a heading line and a text table, then a blank line.</summary>
    public static void Plain(CliOutput output, string clusterId, TopReading reading, IReadOnlyList<TopRow> rows)
    {
        output.Line($"shards top: cluster '{clusterId}', {Summary(rows)}, {reading.TakenAt:yyyy-MM-dd HH:mm:ss} UTC");
        output.Table(TopRows.Headers, rows.Select(TopRows.Cells));
        output.Line();
    }

    /// <summary>One JSON document per refresh, on one line (JSON lines), for scripts.</summary>
    public static void JsonLine(string clusterId, TopReading reading, IReadOnlyList<TopRow> rows) =>
        Console.WriteLine(JsonSerializer.Serialize(new { clusterId, at = reading.TakenAt, silos = rows }, s_jsonLine));

    private static string Summary(IReadOnlyList<TopRow> rows) =>
        rows.Count == 0 ? "no live silo" : string.Join(", ", rows.GroupBy(r => r.Status).Select(g => $"{g.Count()} {g.Key}"));
}
