using System.Diagnostics;

namespace Shards.Load;

/// <summary>
/// The patience of the preparation and the read-back (never of the workload, whose calls are not retried): a call
/// repeated until it succeeds or a deadline passes, and the bounded parallelism they run with.
/// </summary>
internal static class PatientRetry
{
    private const int Parallelism = 32;
    private const double FirstDelayMilliseconds = 50;
    private const double LongestDelayMilliseconds = 1000;
    private const double ShortestAttemptSeconds = 0.05;

    /// <summary>The <see cref="Stopwatch"/> timestamp <paramref name="budget"/> from now.</summary>
    public static long DeadlineAfter(TimeSpan budget) => Stopwatch.GetTimestamp() + (long)(budget.TotalSeconds * Stopwatch.Frequency);

    /// <summary>
    /// Repeats <paramref name="call"/> until it succeeds or the deadline passes (then its last error is thrown), with a
    /// delay doubling from 50 ms to 1 s between attempts. Each attempt is cut off at the deadline.
    /// </summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> call, long deadline, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(FirstDelayMilliseconds);
        while (true)
        {
            var left = TimeSpan.FromSeconds(Math.Max(ShortestAttemptSeconds, (deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency));
            try
            {
                return await call().WaitAsync(left, cancellationToken);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested && Stopwatch.GetTimestamp() + delay.TotalSeconds * Stopwatch.Frequency < deadline)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, LongestDelayMilliseconds));
            }
        }
    }

    /// <summary><see cref="Parallel.ForEachAsync{TSource}(IEnumerable{TSource}, ParallelOptions, Func{TSource, CancellationToken, ValueTask})"/> with at most 32 at a time.</summary>
    public static ParallelOptions Bounded(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken };
}
