using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Shards.Api.Health;
using Shards.Client;
using Shards.Contracts;
using Shards.Grains.Carts;
using Shards.Grains.Catalog;
using Shards.Grains.Orders;
using Shards.Grains.Payments;
using Shards.Placement;
using Shards.Postgres;
using Shards.Server.Observability;
using Shards.Server.Options;
using Shards.Server.Payments;
using Shards.Storage;
using Shards.Storage.Postgres;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Server.Silo;

/// <summary>The whole silo wiring, so that a silo's Program.cs is one call.</summary>
public static class ShardsSiloExtensions
{
    /// <summary>
    /// A Shards silo: AdoNet clustering (the membership table in PostgreSQL is the service registry), grain state
    /// and reminders in PostgreSQL on Shards' own schema, loopback endpoints, optional TLS (Shards:Tls), options
    /// validated at start.
    /// </summary>
    public static IHostApplicationBuilder AddShardsSilo(this IHostApplicationBuilder builder)
    {
        var connectionString = ShardsConnectionString.FromConfiguration(builder.Configuration);
        builder.Services.AddSingleton(connectionString);
        builder.Services.AddOptions<ShardsClusterOptions>().BindConfiguration(ShardsClusterOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.ClusterId) && !string.IsNullOrWhiteSpace(o.ServiceId), "ClusterId and ServiceId are required")
            .ValidateOnStart();
        builder.Services.AddOptions<SiloEndpointOptions>().BindConfiguration(SiloEndpointOptions.Section)
            .Validate(o => o.SiloPort is > 0 and < 65536 && o.GatewayPort is > 0 and < 65536, "SiloPort and GatewayPort must be 1-65535")
            .Validate(o => o.SiloPort != o.GatewayPort, "SiloPort and GatewayPort must differ")
            .Validate(o => IPAddress.TryParse(o.AdvertisedAddress, out _) && IPAddress.TryParse(o.ListenAddress, out _), "AdvertisedAddress and ListenAddress must be IP addresses")
            .ValidateOnStart();
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section);
        builder.Services.AddOptions<PlacementOptions>().BindConfiguration(PlacementOptions.Section);
        var failureDetection = builder.Configuration.GetSection(FailureDetectionOptions.Section).Get<FailureDetectionOptions>() ?? new();
        builder.Services.AddHostedService<ParentProcessWatch>();
        builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgresql", tags: [ApiHealth.ReadyTag]);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);

        var cluster = builder.Configuration.GetSection(ShardsClusterOptions.Section).Get<ShardsClusterOptions>() ?? new();
        var endpoints = builder.Configuration.GetSection(SiloEndpointOptions.Section).Get<SiloEndpointOptions>() ?? new();
        var storage = builder.Configuration.GetSection(ShardsStorageOptions.Section).Get<ShardsStorageOptions>() ?? new();
        var telemetry = builder.Configuration.GetSection(ShardsTelemetryOptions.Section).Get<ShardsTelemetryOptions>() ?? new();
        var dashboard = builder.Configuration.GetSection(ShardsDashboardOptions.Section).Get<ShardsDashboardOptions>() ?? new();
        builder.Services.AddOptions<ShardsDashboardOptions>().BindConfiguration(ShardsDashboardOptions.Section)
            .Validate(o => o.Path.StartsWith('/') && o.Path.Length > 1 && !o.Path.StartsWith("/api", StringComparison.Ordinal), "Shards:Dashboard:Path must start with / and not be under /api (e.g. /dashboard)")
            .ValidateOnStart();
        builder.AddShardsTelemetry(endpoints.EffectiveName);
        var tls = ClusterTls.From(builder.Configuration.GetSection(ShardsTlsOptions.Section).Get<ShardsTlsOptions>());
        builder.UseOrleans(silo => silo.ConfigureShardsSilo(connectionString.Value, cluster, endpoints, failureDetection, storage, tls)
            .AddShardsSiloTelemetry(telemetry)
            .AddShardsDashboard(dashboard));
        return builder;
    }

    /// <summary>
    /// The silo-builder part, shared with in-process test clusters. <paramref name="connectionString"/> is the main
    /// database (membership, reminders, the shard map); grain state goes to the shards of <paramref name="storage"/>,
    /// or to the main database when it configures none.
    /// </summary>
    public static ISiloBuilder ConfigureShardsSilo(
        this ISiloBuilder silo,
        string connectionString,
        ShardsClusterOptions cluster,
        SiloEndpointOptions? endpoints,
        FailureDetectionOptions? failureDetection = null,
        ShardsStorageOptions? storage = null,
        ClusterTls? tls = null)
    {
        var detection = failureDetection ?? new FailureDetectionOptions();
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = detection.ProbeTimeout;
            o.MaxProbeTimeout = detection.MaxProbeTimeout < detection.ProbeTimeout ? detection.ProbeTimeout : detection.MaxProbeTimeout;
            o.NumMissedProbesLimit = detection.MissedProbesLimit;
            o.NumVotesForDeathDeclaration = detection.VotesForDeathDeclaration;
            o.IAmAliveTablePublishTimeout = detection.IAmAlivePublishPeriod;
            o.DefunctSiloExpiration = detection.DefunctSiloExpiration;
            o.DefunctSiloCleanupPeriod = detection.DefunctSiloCleanupPeriod;
        });
        silo.Configure<SiloMessagingOptions>(o =>
        {
            o.PlacementRetryBaseDelay = detection.PlacementRetryBaseDelay;
            o.PlacementMaxRetries = detection.PlacementMaxRetries;
        });

        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });

        if (endpoints is not null)
        {
            silo.Configure<SiloOptions>(o => o.SiloName = endpoints.EffectiveName);
            silo.Configure<EndpointOptions>(o =>
            {
                var listen = IPAddress.Parse(endpoints.ListenAddress);
                o.AdvertisedIPAddress = IPAddress.Parse(endpoints.AdvertisedAddress);
                o.SiloPort = endpoints.SiloPort;
                o.GatewayPort = endpoints.GatewayPort;
                o.SiloListeningEndpoint = new IPEndPoint(listen, endpoints.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(listen, endpoints.GatewayPort);
            });
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloStartupChecks>();
        }

        if (tls is not null)
        {
            // Silo-to-silo and gateway connections; a client or silo without the cluster certificate is refused.
            silo.UseTls(tls.Certificate, tls.Configure);
        }

        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = AdoNetInvariants.PostgreSql;
            o.ConnectionString = connectionString;
        });
        var storageOptions = storage ?? new ShardsStorageOptions();
        var shards = ShardSet.Resolve(storageOptions, connectionString);
        silo.AddShardMap(connectionString, shards, storageOptions);
        foreach (var storageName in StorageNames.All)
        {
            silo.AddShardsGrainStorage(storageName, shards, storageOptions.GroupCommit, storageOptions.CommandTimeout);
        }

        silo.AddRequestLog();
        silo.AddConsistentHashPlacement();
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = AdoNetInvariants.PostgreSql;
            o.ConnectionString = connectionString;
        });
        silo.AddShardsServices(connectionString);
        return silo;
    }

    /// <summary>
    /// The y-axis services' own registrations: the catalog and the cart service subscribe to <c>purchased</c>, checkout
    /// and payment options, and the payment gateway (the simulated one, its ledger in the main database at
    /// <paramref name="connectionString"/>, unless another <see cref="IPaymentGateway"/> was registered first).
    /// </summary>
    public static ISiloBuilder AddShardsServices(this ISiloBuilder silo, string connectionString)
    {
        silo.Services.AddCatalogService().AddCartService().AddCheckoutService();
        silo.Services.AddOptions<SimulatedPaymentGatewayOptions>().BindConfiguration(SimulatedPaymentGatewayOptions.Section)
            .Validate(o => o.MaxApprovedAmount >= 0 && o.ResponseDelay >= TimeSpan.Zero, "Shards:Payments:Simulated:MaxApprovedAmount and ResponseDelay cannot be negative")
            .ValidateOnStart();
        silo.Services.AddPostgresDataSources();
        silo.Services.TryAddSingleton<IPaymentGateway>(services => new SimulatedPaymentGateway(
            services.GetRequiredService<PostgresDataSources>().For(connectionString),
            services.GetRequiredService<IOptions<ClusterOptions>>(),
            services.GetRequiredService<IOptions<SimulatedPaymentGatewayOptions>>(),
            services.GetService<TimeProvider>() ?? TimeProvider.System));
        return silo;
    }
}
