using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Shards.Api.Hosting;
using Shards.Api.Options;
using Shards.Postgres;
using Shards.Server.Observability;
using Shards.Storage.Postgres;

namespace Shards.Server.Silo;

/// <summary>
/// A silo process: an Orleans silo and the HTTP API it co-hosts, run until SIGTERM / Ctrl+C, with start-up failures
/// turned into one clear line and exit code 2.
/// </summary>
public static class ShardsSiloHost
{
    public const int StartupFailedExitCode = 2;

    /// <summary>
    /// The silo web host, built but not started. <paramref name="configure"/> runs before the build (tests swap the
    /// HTTP server for a test server there).
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Settings come from appsettings.json beside the program, whatever folder the silo was started from.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddShardsSilo();
        builder.AddShardsApi();

        // HTTP listens while the silo joins, so /health/live answers at once and /health/ready (and /api, with 503
        // and Retry-After) says "not ready" until the silo is Active. Stopping is in reverse order: the HTTP server
        // stops first, finishing requests in flight, then the silo.
        builder.Services.Configure<HostOptions>(o => o.ServicesStartConcurrently = true);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapShardsApi();
        app.MapShardsTelemetry();
        app.MapShardsDashboard();
        return app;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            await using var app = Build(args);
            var api = app.Services.GetRequiredService<IOptions<ShardsApiOptions>>().Value;
            if (api.Enabled)
            {
                // Before anything starts: a silo that could not serve HTTP must not join the cluster at all.
                SiloStartupChecks.EnsurePortFree(api.ListenAddress, api.Port, "HTTP port (Shards:Api:Port)");
            }

            await app.RunAsync();
            return 0;
        }
        catch (Exception ex) when (Unwrap(ex) is SiloStartupException or ShardedStorageStartupException or PostgresNotAvailableException or OptionsValidationException)
        {
            await Console.Error.WriteLineAsync($"shards silo: cannot start: {Unwrap(ex).Message}");
            return StartupFailedExitCode;
        }
        catch (OperationCanceledException)
        {
            // SIGTERM / Ctrl+C arrived while the silo was still joining: nothing is wrong.
            await Console.Error.WriteLineAsync("shards silo: stopped before it finished starting");
            return 0;
        }
        catch (IOException ex) when (ex.InnerException is AddressInUseException)
        {
            await Console.Error.WriteLineAsync($"shards silo: cannot start: {ex.Message} Choose a free Shards:Api:Port, or stop the other process.");
            return StartupFailedExitCode;
        }
    }

    private static Exception Unwrap(Exception ex) => ex is AggregateException { InnerExceptions.Count: 1 } aggregate ? Unwrap(aggregate.InnerExceptions[0]) : ex;
}
