using System.Numerics;

namespace Shards.Load;

/// <summary>Response-time statistics of a run, in milliseconds.</summary>
public sealed record ResponseTimes(
    long Count, double MeanMs, double P50Ms, double P95Ms, double P99Ms, double LongestMs, double ShortestMs);

/// <summary>
/// Response times in a log-linear histogram (as HdrHistogram does): exact below 128 µs, then 64 buckets per power of
/// two, so a percentile is within 1 % of the true value while memory stays fixed however long the run. Count,
/// mean, shortest and longest are exact. Thread-safe: clients record concurrently.
/// </summary>
public sealed class LatencyRecorder
{
    private const int Linear = 128;
    private const int SubBuckets = 64;
    private readonly long[] _buckets = new long[BucketIndex(long.MaxValue) + 1];
    private long _count;
    private long _sumMicros;
    private long _minMicros = long.MaxValue;
    private long _maxMicros;

    public long Count => Interlocked.Read(ref _count);

    public void Record(TimeSpan elapsed) => RecordMicros(Math.Max(0, (long)(elapsed.Ticks / (double)TimeSpan.TicksPerMicrosecond)));

    public void RecordMicros(long micros)
    {
        Interlocked.Increment(ref _buckets[BucketIndex(micros)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumMicros, micros);
        for (var min = Interlocked.Read(ref _minMicros); micros < min; min = Interlocked.Read(ref _minMicros))
        {
            if (Interlocked.CompareExchange(ref _minMicros, micros, min) == min)
            {
                break;
            }
        }

        for (var max = Interlocked.Read(ref _maxMicros); micros > max; max = Interlocked.Read(ref _maxMicros))
        {
            if (Interlocked.CompareExchange(ref _maxMicros, micros, max) == max)
            {
                break;
            }
        }
    }

    /// <summary>
    /// The <paramref name="percentile"/> (0-100] by nearest rank: the smallest recorded value that at least that share
    /// of the samples does not exceed, as the middle of its bucket, clamped to the shortest and longest (the top rank is the longest). Null when empty.
    /// </summary>
    public double? PercentileMs(double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(percentile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        var count = Count;
        if (count == 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(percentile / 100 * count));
        if (rank == count)
        {
            return Interlocked.Read(ref _maxMicros) / 1000.0;
        }

        long seen = 0;
        for (var index = 0; index < _buckets.Length; index++)
        {
            seen += Interlocked.Read(ref _buckets[index]);
            if (seen >= rank)
            {
                var (low, high) = BucketRange(index);
                var middle = low + (high - low) / 2;
                return Math.Clamp(middle, Interlocked.Read(ref _minMicros), Interlocked.Read(ref _maxMicros)) / 1000.0;
            }
        }

        return Interlocked.Read(ref _maxMicros) / 1000.0;
    }

    /// <summary>Everything the report shows, or null when nothing was recorded.</summary>
    public ResponseTimes? Summarise()
    {
        var count = Count;
        return count == 0
            ? null
            : new ResponseTimes(
                count,
                Interlocked.Read(ref _sumMicros) / 1000.0 / count,
                PercentileMs(50)!.Value,
                PercentileMs(95)!.Value,
                PercentileMs(99)!.Value,
                Interlocked.Read(ref _maxMicros) / 1000.0,
                Interlocked.Read(ref _minMicros) / 1000.0);
    }

    /// <summary>Values below 128 µs have a bucket each; above, 64 buckets per power of two.</summary>
    internal static int BucketIndex(long micros)
    {
        if (micros < Linear)
        {
            return (int)Math.Max(0, micros);
        }

        var shift = 63 - BitOperations.LeadingZeroCount((ulong)micros) - 6; // micros >> shift is in [64, 128)
        return Linear + ((shift - 1) * SubBuckets) + (int)((micros >> shift) - SubBuckets);
    }

    /// <summary>The lowest and highest value of a bucket.</summary>
    internal static (long Low, long High) BucketRange(int index)
    {
        if (index < Linear)
        {
            return (index, index);
        }

        var shift = ((index - Linear) / SubBuckets) + 1;
        var low = (long)((index - Linear) % SubBuckets + SubBuckets) << shift;
        return (low, low + (1L << shift) - 1);
    }
}
