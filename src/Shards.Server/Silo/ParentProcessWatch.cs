using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shards.Server.Options;

namespace Shards.Server.Silo;

/// <summary>Stops the silo gracefully when the launcher that started it has gone away.</summary>
internal sealed partial class ParentProcessWatch(
    IOptions<SiloEndpointOptions> options, IHostApplicationLifetime lifetime, ILogger<ParentProcessWatch> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.ParentProcessId is not { } parent)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!IsAlive(parent))
            {
                LogParentGone(logger, parent);
                lifetime.StopApplication();
                return;
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "The launcher (pid {ParentPid}) is gone; stopping this silo gracefully")]
    private static partial void LogParentGone(ILogger logger, int parentPid);
}
