using System.Diagnostics;
using Shards.Load;

namespace Shards.Bench;

/// <summary>The processes whose CPU an HTTP run meters: the silos, nginx (master and workers; empty when not in the path) and this client.</summary>
public sealed record HttpMeteredPids(IReadOnlyList<int> Silos, IReadOnlyList<int> Nginx, int Client);

/// <summary>
/// What one HTTP round measured: 2xx answers, non-2xx answers and transport errors apart, and CPU of each process group.
/// <see cref="RanOut"/>: the request source ran dry (no prepared cart left) before the round's time was up.
/// </summary>
public sealed record HttpLoopResult(
    long Requests, long Non2xx, long TransportErrors, double Seconds, double SiloCpuMs, double NginxCpuMs, double ClientCpuMs, string? FirstError, bool RanOut)
{
    public double PerSecond => Seconds > 0 ? Requests / Seconds : 0;
}

/// <summary>
/// N connections, each with one request in flight: a worker sends its next request as soon as the previous one was
/// answered (body read), for a warm-up that is thrown away and then a fixed duration, and never more than a given count
/// of requests. Nothing is retried. The client's handler holds at most N connections per server.
/// </summary>
public static class HttpClosedLoop
{
    /// <summary>The first error's text is cut to this many characters.</summary>
    private const int ErrorTextLength = 200;

    public static Task<HttpLoopResult> RunAsync(
        HttpClient client, int connections, TimeSpan warmup, TimeSpan duration, long maxRequests, Func<HttpRequestMessage?> next,
        HttpMeteredPids pids, LatencyRecorder? into, CancellationToken cancellationToken) =>
        RunAsync(connections, warmup, duration, maxRequests, (counters, latency, token) => SendNextAsync(client, next, counters, latency, token), pids, into, cancellationToken);

    /// <summary>
    /// The same closed loop over calls that are not HTTP requests (<see cref="HttpEndpoint.GrainCartAdd"/>): each
    /// completed call counts as a 2xx answer, each exception as a transport error.
    /// </summary>
    public static Task<HttpLoopResult> RunAsync(
        int connections, TimeSpan warmup, TimeSpan duration, long maxRequests, Func<CancellationToken, Task> call,
        HttpMeteredPids pids, LatencyRecorder? into, CancellationToken cancellationToken) =>
        RunAsync(connections, warmup, duration, maxRequests, (counters, latency, token) => CallAsync(call, counters, latency, token), pids, into, cancellationToken);

    private static async Task<HttpLoopResult> RunAsync(
        int connections, TimeSpan warmup, TimeSpan duration, long maxRequests, Func<Counters, LatencyRecorder?, CancellationToken, Task<bool>> step,
        HttpMeteredPids pids, LatencyRecorder? into, CancellationToken cancellationToken)
    {
        await RunPhaseAsync(connections, warmup, maxRequests, step, null, cancellationToken);
        var silos = ProcessMeter.CpuMs(pids.Silos);
        var nginx = ProcessMeter.CpuMs(pids.Nginx);
        var self = ProcessMeter.CpuMs(pids.Client);
        var watch = Stopwatch.StartNew();
        var phase = await RunPhaseAsync(connections, duration, maxRequests, step, into, cancellationToken);
        var seconds = watch.Elapsed.TotalSeconds;
        return new HttpLoopResult(
            phase.Requests, phase.Non2xx, phase.TransportErrors, seconds,
            ProcessMeter.CpuMs(pids.Silos) - silos, ProcessMeter.CpuMs(pids.Nginx) - nginx, ProcessMeter.CpuMs(pids.Client) - self,
            phase.FirstError, phase.RanOut);
    }

    private sealed class Counters
    {
        public long Requests;
        public long Non2xx;
        public long TransportErrors;
        public long Sent;
        public string? FirstError;
        public bool RanOut;
    }

    /// <summary>One phase: <paramref name="connections"/> workers, each running <paramref name="step"/> (false: the source ran dry) until the time is up.</summary>
    private static async Task<Counters> RunPhaseAsync(
        int connections, TimeSpan duration, long maxRequests, Func<Counters, LatencyRecorder?, CancellationToken, Task<bool>> step, LatencyRecorder? latency,
        CancellationToken cancellationToken)
    {
        var counters = new Counters();
        if (duration <= TimeSpan.Zero)
        {
            return counters;
        }

        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, connections).Select(_ => Task.Run(
            async () =>
            {
                while (Stopwatch.GetTimestamp() < end && !cancellationToken.IsCancellationRequested && Interlocked.Increment(ref counters.Sent) <= maxRequests)
                {
                    if (!await step(counters, latency, cancellationToken))
                    {
                        counters.RanOut = true;
                        return;
                    }
                }
            },
            cancellationToken));
        await Task.WhenAll(workers);
        cancellationToken.ThrowIfCancellationRequested();
        return counters;
    }

    /// <summary>Sends the next request; false when there is none.</summary>
    private static async Task<bool> SendNextAsync(
        HttpClient client, Func<HttpRequestMessage?> next, Counters counters, LatencyRecorder? latency, CancellationToken cancellationToken)
    {
        using var request = next();
        if (request is null)
        {
            return false;
        }

        await SendAsync(client, request, counters, latency, cancellationToken);
        return true;
    }

    private static async Task<bool> CallAsync(Func<CancellationToken, Task> call, Counters counters, LatencyRecorder? latency, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await call(cancellationToken);
            latency?.Record(Stopwatch.GetElapsedTime(started));
            Interlocked.Increment(ref counters.Requests);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref counters.TransportErrors);
            Interlocked.CompareExchange(ref counters.FirstError, Cut($"{ex.GetType().Name}: {ex.Message}"), null);
        }

        return true;
    }

    private static async Task SendAsync(HttpClient client, HttpRequestMessage request, Counters counters, LatencyRecorder? latency, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            // SendAsync reads the whole body before it returns (HttpCompletionOption.ResponseContentRead).
            using var response = await client.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                latency?.Record(Stopwatch.GetElapsedTime(started));
                Interlocked.Increment(ref counters.Requests);
                return;
            }

            Interlocked.Increment(ref counters.Non2xx);
            if (counters.FirstError is null)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                Interlocked.CompareExchange(ref counters.FirstError, Cut($"{(int)response.StatusCode} {request.Method} {request.RequestUri?.AbsolutePath}: {body}"), null);
            }
        }
        catch (Exception ex) when ((ex is HttpRequestException or TaskCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref counters.TransportErrors);
            Interlocked.CompareExchange(ref counters.FirstError, Cut($"{request.Method} {request.RequestUri?.AbsolutePath}: {ex.GetType().Name}: {ex.Message}"), null);
        }
    }

    private static string Cut(string text)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= ErrorTextLength ? line : line[..ErrorTextLength] + "...";
    }
}
