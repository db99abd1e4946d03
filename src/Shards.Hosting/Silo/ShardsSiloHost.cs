using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Shards.Hosting.Database;

namespace Shards.Hosting.Silo;

/// <summary>Runs a silo host until SIGTERM / Ctrl+C, turning start-up failures into one clear line and exit code 2.</summary>
public static class ShardsSiloHost
{
    public const int StartupFailedExitCode = 2;

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            // Settings come from appsettings.json beside the program, whatever folder the silo was started from.
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
            builder.AddShardsSilo();
            using var host = builder.Build();
            await host.RunAsync();
            return 0;
        }
        catch (Exception ex) when (Unwrap(ex) is SiloStartupException or PostgresNotAvailableException or OptionsValidationException or InvalidOperationException { Source: "Shards.Hosting" })
        {
            await Console.Error.WriteLineAsync($"shards silo: cannot start: {Unwrap(ex).Message}");
            return StartupFailedExitCode;
        }
    }

    private static Exception Unwrap(Exception ex) => ex is AggregateException { InnerExceptions.Count: 1 } aggregate ? Unwrap(aggregate.InnerExceptions[0]) : ex;
}
