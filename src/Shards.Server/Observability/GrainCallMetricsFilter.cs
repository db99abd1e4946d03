using System.Diagnostics;
using Shards.Client;

namespace Shards.Server.Observability;

/// <summary>
/// Counts every call this silo serves on one of Shards' grain interfaces, and the failed ones (<see cref="GrainCallCounters"/>,
/// what <c>shards top</c> reads), and times it when the duration histogram is exported (Orleans' own system calls are
/// left out of both).
/// </summary>
internal sealed class GrainCallMetricsFilter(SiloMetrics metrics, GrainCallCounters counters) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var grainInterface = context.Request.GetInterfaceType();
        if (grainInterface.Namespace?.StartsWith("Shards.", StringComparison.Ordinal) != true)
        {
            await context.Invoke();
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            await context.Invoke();
            failed = false;
        }
        finally
        {
            counters.Record(failed);
            if (metrics.GrainCallsEnabled)
            {
                metrics.RecordGrainCall(grainInterface.Name, context.MethodName, failed, Stopwatch.GetElapsedTime(started));
            }
        }
    }
}
