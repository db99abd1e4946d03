using System.Text;
using System.Text.Json;
using Shards.Json;

namespace Shards.Cli.Core;

/// <summary>Prints for people (tables, bars, progress on stderr) or for scripts (<c>--json</c> on stdout).</summary>
public sealed class CliOutput(bool json)
{
    /// <summary>Shards' JSON, as the HTTP API writes it (<see cref="ShardsJson"/>), indented for people who read it too.</summary>
    private static readonly JsonSerializerOptions s_json = new(ShardsJson.Options) { WriteIndented = true };

    public bool Json { get; } = json;

    /// <summary>A line for people; suppressed under <c>--json</c> (which prints only the final document).</summary>
    public void Line(string text = "")
    {
        if (!Json)
        {
            Console.WriteLine(text);
        }
    }

    /// <summary>Status lines that must not pollute JSON output go to stderr.</summary>
    public static void Status(string text) => Console.Error.WriteLine(text);

    /// <summary>True once <see cref="Document"/> printed the run's document: an error after it prints no second one.</summary>
    public bool DocumentWritten { get; private set; }

    public void Document(object value)
    {
        if (Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(value, value.GetType(), s_json));
            DocumentWritten = true;
        }
    }

    /// <summary>
    /// A failed command under <c>--json</c>: the error document on stdout, where scripts read the result (the one-line
    /// message stays on stderr for people). Nothing when not <c>--json</c> or when the run already printed its document.
    /// </summary>
    public void Error(string command, string message, int exitCode, object? details = null)
    {
        if (Json && !DocumentWritten)
        {
            Document(CliError.Document(command, message, exitCode, details));
        }
    }

    public static string ToJson(object value) => JsonSerializer.Serialize(value, value.GetType(), s_json);

    /// <summary>A plain text table with a header row.</summary>
    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        if (Json)
        {
            return;
        }

        foreach (var line in TableLines(headers, rows))
        {
            Console.WriteLine(line);
        }
    }

    /// <summary>The lines of <see cref="Table"/>: header, dashes, one line per row.</summary>
    public static IEnumerable<string> TableLines(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
        yield return FormatRow(headers, widths);
        yield return string.Join("  ", widths.Select(w => new string('-', w)));
        foreach (var row in all)
        {
            yield return FormatRow(row, widths);
        }
    }

    /// <summary>A horizontal bar chart: one bar per label, scaled to the largest value.</summary>
    public void Bars(IEnumerable<(string Label, int Value)> bars, int width = 40)
    {
        if (Json)
        {
            return;
        }

        var all = bars.ToList();
        var max = Math.Max(1, all.Count == 0 ? 1 : all.Max(b => b.Value));
        var total = Math.Max(1, all.Sum(b => b.Value));
        var labelWidth = all.Count == 0 ? 0 : all.Max(b => b.Label.Length);
        foreach (var (label, value) in all)
        {
            var length = (int)Math.Round((double)value / max * width);
            Console.WriteLine($"  {label.PadRight(labelWidth)}  {new string('#', length).PadRight(width)}  {value,6}  {100.0 * value / total,5:0.0} %");
        }
    }

    private static string FormatRow(IReadOnlyList<string> cells, int[] widths)
    {
        var text = new StringBuilder();
        for (var i = 0; i < cells.Count; i++)
        {
            if (i > 0)
            {
                text.Append("  ");
            }

            text.Append(i == cells.Count - 1 ? cells[i] : cells[i].PadRight(widths[i]));
        }

        return text.ToString();
    }
}

/// <summary>A one-line progress counter on stderr for long steps (redrawn in place on a terminal).</summary>
public sealed class Progress(string label, int total)
{
    private readonly long _startTicks = Environment.TickCount64;
    private int _done;
    private long _lastDraw;

    public void Advance()
    {
        var done = Interlocked.Increment(ref _done);
        var now = Environment.TickCount64;
        if (Console.IsErrorRedirected)
        {
            return; // a log file gets the final count from Finish, not a line per redraw
        }

        if (done == total || now - Interlocked.Read(ref _lastDraw) > 250)
        {
            Interlocked.Exchange(ref _lastDraw, now);
            Draw(done);
        }
    }

    public void Finish()
    {
        Draw(Volatile.Read(ref _done));
        if (!Console.IsErrorRedirected)
        {
            Console.Error.WriteLine();
        }
    }

    private void Draw(int done)
    {
        var seconds = (Environment.TickCount64 - _startTicks) / 1000.0;
        var text = $"  {label}: {done}/{total} ({seconds:0.0} s)";
        if (Console.IsErrorRedirected)
        {
            Console.Error.WriteLine(text);
        }
        else
        {
            lock (this)
            {
                Console.Error.Write("\r" + text);
            }
        }
    }
}
