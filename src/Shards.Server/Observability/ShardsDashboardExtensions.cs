using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;
using Shards.Api.Security;
using Shards.Server.Options;

namespace Shards.Server.Observability;

/// <summary>
/// The Orleans Dashboard on the silo's HTTP server (<c>Shards:Dashboard:Enabled=true</c>, or <c>shards cluster up
/// --dashboard</c>), behind the API keys: a browser is asked for them by a Basic challenge (any user name, the key as
/// password) and sends them with each of the page's requests.
/// </summary>
public static class ShardsDashboardExtensions
{
    public static ISiloBuilder AddShardsDashboard(this ISiloBuilder silo, ShardsDashboardOptions dashboard)
    {
        if (!dashboard.Enabled)
        {
            return silo;
        }

        DashboardStartAfterSilo.Register(silo.Services, () => silo.AddDashboard(o =>
        {
            o.CounterUpdateIntervalMs = (int)Math.Max(1000, dashboard.CounterUpdateInterval.TotalMilliseconds);
            o.HideTrace = !dashboard.LogStream;
        }));
        return silo;
    }

    public static WebApplication MapShardsDashboard(this WebApplication app)
    {
        var dashboard = app.Services.GetRequiredService<IOptions<ShardsDashboardOptions>>().Value;
        if (!dashboard.Enabled)
        {
            return app;
        }

        app.MapOrleansDashboard(dashboard.Path).RequireOperatorKey().DisableRateLimiting();
        TelemetryLog.DashboardServed(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ShardsDashboardExtensions)), dashboard.Path);
        return app;
    }
}
