using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Runtime;
using Shards.Client;

namespace Shards.Server.Lease;

/// <summary>Wires the majority lease into a silo.</summary>
public static class MajorityLeaseExtensions
{
    /// <summary>
    /// The majority lease (docs/partitions.md): a prober keeps it up to date, a grain call filter refuses Shards' grain
    /// calls while it is not held. Peers are reached with <see cref="TcpSiloProbe"/> unless another
    /// <see cref="ISiloProbe"/> was registered first (tests).
    /// </summary>
    public static ISiloBuilder AddMajorityLease(this ISiloBuilder silo, MajorityLeaseOptions options, ClusterTls? tls = null)
    {
        silo.Services.AddMetrics();
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddSingleton(options);
        silo.Services.TryAddSingleton<ISiloProbe>(_ => new TcpSiloProbe(tls));
        silo.Services.AddSingleton(services => new MajorityLease(
            services.GetRequiredService<ILocalSiloDetails>().SiloAddress, options.Lease, services.GetRequiredService<TimeProvider>()));
        silo.Services.AddSingleton<MajorityLeaseMetrics>();
        silo.Services.AddSingleton<MajorityLeaseProber>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<MajorityLeaseProber>());
        silo.AddIncomingGrainCallFilter<MajorityLeaseFilter>();
        return silo;
    }
}
