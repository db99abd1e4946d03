using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;
using Shards.Server.Silo;

namespace Shards.Server.Observability;

/// <summary>
/// Starts the Orleans Dashboard's hosted service once this silo is Active, instead of with the host. The dashboard
/// calls grains as soon as it starts, assuming the silo already runs; a Shards silo host starts its services
/// concurrently (so /health answers while the silo joins), and an early call made the silo open its ports before
/// its start-up checks ran, which then refused to start ("port already in use").
/// </summary>
internal sealed class DashboardStartAfterSilo(IHostedService dashboard) : ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DashboardStartAfterSilo), ServiceLifecycleStage.Active, dashboard.StartAsync, dashboard.StopAsync);

    public async ValueTask DisposeAsync()
    {
        if (dashboard is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
    }

    /// <summary>
    /// Runs <paramref name="addDashboard"/> (<c>AddDashboard()</c>) and moves the hosted service it registers into
    /// the silo lifecycle: started when the silo is Active, stopped with it.
    /// </summary>
    public static void Register(IServiceCollection services, Action addDashboard)
    {
        var before = services.Where(IsHostedService).ToHashSet();
        addDashboard();
        var added = services.Where(d => IsHostedService(d) && !before.Contains(d)).ToList();
        if (added.Count != 1)
        {
            throw new SiloStartupException(
                $"The Orleans Dashboard registered {added.Count} hosted services where Shards expects one: the package changed; Shards cannot start it after the silo.");
        }

        var descriptor = added[0];
        services.Remove(descriptor);
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(provider => new DashboardStartAfterSilo(Create(descriptor, provider)));
    }

    private static bool IsHostedService(ServiceDescriptor descriptor) => descriptor.ServiceType == typeof(IHostedService) && !descriptor.IsKeyedService;

    private static IHostedService Create(ServiceDescriptor descriptor, IServiceProvider provider) => (IHostedService)(
        descriptor.ImplementationInstance
        ?? descriptor.ImplementationFactory?.Invoke(provider)
        ?? ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!));
}
