using System.Diagnostics;

namespace Shards.Load;

/// <summary>
/// The start of a load run (a <see cref="Stopwatch"/> timestamp, 0 until the clients start) and the times of the run
/// relative to it, as the report and the progress give them.
/// </summary>
internal sealed class RunClock
{
    public long Start { get; private set; }

    /// <summary>The clients start now; returns the start.</summary>
    public long Begin() => Start = Stopwatch.GetTimestamp();

    public TimeSpan ElapsedAt(long timestamp) => Stopwatch.GetElapsedTime(Start, timestamp);

    /// <summary>Seconds from the start of the run to <paramref name="timestamp"/>.</summary>
    public double SecondsAt(long timestamp) => ElapsedAt(timestamp).TotalSeconds;

    /// <summary>The whole second of the run that <paramref name="timestamp"/> falls in (0 for the first).</summary>
    public int SecondOf(long timestamp) => (int)((timestamp - Start) / Stopwatch.Frequency);
}
