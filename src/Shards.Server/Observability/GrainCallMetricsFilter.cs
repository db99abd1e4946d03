using System.Diagnostics;

namespace Shards.Server.Observability;

/// <summary>Times every call this silo serves on one of Shards' grain interfaces (Orleans' own system calls are left out).</summary>
internal sealed class GrainCallMetricsFilter(SiloMetrics metrics) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var grainInterface = context.Request.GetInterfaceType();
        if (!metrics.GrainCallsEnabled || grainInterface.Namespace?.StartsWith("Shards.", StringComparison.Ordinal) != true)
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
            metrics.RecordGrainCall(grainInterface.Name, context.MethodName, failed, Stopwatch.GetElapsedTime(started));
        }
    }
}
