using System.Diagnostics;
using Shards.Load;

namespace Shards.Bench;

/// <summary>What one closed-loop run measured (the latency recorder may hold earlier rounds too).</summary>
public sealed record LoopResult(long Calls, long Errors, double Seconds, LatencyRecorder Latency, double CpuMs)
{
    public double PerSecond => Calls / Seconds;

    /// <summary>The latency distribution as percentiles 1-99 plus the tail, for the CDF plot.</summary>
    public IReadOnlyList<CdfPoint> Cdf() => CdfOf(Latency);

    /// <summary>The distribution of <paramref name="latency"/> as percentiles 1-99 plus the tail.</summary>
    public static IReadOnlyList<CdfPoint> CdfOf(LatencyRecorder latency) =>
        Enumerable.Range(1, 99).Select(p => (double)p).Concat([99.5, 99.9, 100])
            .Select(p => new CdfPoint(p, latency.PercentileMs(p) ?? 0))
            .ToList();
}

/// <summary>
/// N callers, each sending the next call as soon as the previous one answered (a closed loop: N calls in flight),
/// for a warm-up that is thrown away and then a fixed duration. Failed calls are counted, never retried here.
/// CPU is the utime + stime of the given processes (silos and this client) over the measured part only.
/// </summary>
public static class ClosedLoop
{
    public static async Task<LoopResult> RunAsync(
        int inFlight, TimeSpan warmup, TimeSpan duration, Func<int, Task> call, int keys,
        IReadOnlyList<int> measuredPids, CancellationToken cancellationToken, LatencyRecorder? into = null)
    {
        await RunPhaseAsync(inFlight, warmup, call, keys, null, cancellationToken);
        var latency = into ?? new LatencyRecorder();
        var cpuBefore = ProcessMeter.CpuMs(measuredPids);
        var watch = Stopwatch.StartNew();
        var (calls, errors) = await RunPhaseAsync(inFlight, duration, call, keys, latency, cancellationToken);
        var seconds = watch.Elapsed.TotalSeconds;
        var cpu = ProcessMeter.CpuMs(measuredPids) - cpuBefore;
        return new LoopResult(calls, errors, seconds, latency, cpu);
    }

    private static async Task<(long Calls, long Errors)> RunPhaseAsync(
        int inFlight, TimeSpan duration, Func<int, Task> call, int keys, LatencyRecorder? latency, CancellationToken cancellationToken)
    {
        long calls = 0, errors = 0;
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, inFlight).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < end && !cancellationToken.IsCancellationRequested)
            {
                var key = Random.Shared.Next(keys);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await call(key);
                    latency?.Record(Stopwatch.GetElapsedTime(started));
                    Interlocked.Increment(ref calls);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }, cancellationToken));
        await Task.WhenAll(workers);
        cancellationToken.ThrowIfCancellationRequested();
        return (calls, errors);
    }
}
