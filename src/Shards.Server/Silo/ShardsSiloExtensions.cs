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
using Shards.Server.Lease;
using Shards.Server.Observability;
using Shards.Server.Options;
using Shards.Server.Payments;
using Shards.Server.ReadLeases;
using Shards.Storage;
using Shards.Storage.Postgres;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Server.Silo;

/// <summary>The whole silo wiring, so that a silo's Program.cs is one call.</summary>
public static class ShardsSiloExtensions
{
    /// <summary>
    /// A Shards silo: AdoNet clustering (the membership table in PostgreSQL is the service registry), grain state
    /// and reminders in PostgreSQL on Shards' own schema, loopback endpoints, optional TLS (Shards:Tls), the majority
    /// lease (Shards:FailureDetection), options validated at start.
    /// </summary>
    public static IHostApplicationBuilder AddShardsSilo(this IHostApplicationBuilder builder)
    {
        // The settings Orleans needs while the silo is built: each section bound once, checked by its validator
        // (a bad value stops the silo here, with the setting's name), and the same instance served as IOptions<T>.
        var connectionString = ShardsConnectionString.FromConfiguration(builder.Configuration);
        builder.Services.AddSingleton(connectionString);
        var cluster = SiloSettings.Bind(builder, ShardsClusterOptions.Section, new ShardsClusterOptionsValidator());
        var endpoints = SiloSettings.Bind(builder, SiloEndpointOptions.Section, new SiloEndpointOptionsValidator());
        var failureDetection = SiloSettings.Bind(builder, FailureDetectionOptions.Section, new FailureDetectionOptionsValidator());
        var storage = SiloSettings.Bind(builder, ShardsStorageOptions.Section, new ShardsStorageOptionsValidator());
        var telemetry = SiloSettings.Bind(builder, ShardsTelemetryOptions.Section, new ShardsTelemetryOptionsValidator());
        var dashboard = SiloSettings.Bind(builder, ShardsDashboardOptions.Section, new ShardsDashboardOptionsValidator());
        var readLeases = SiloSettings.Bind(builder, ProductReadLeaseOptions.Section, new ProductReadLeaseOptionsValidator());
        var tls = ClusterTls.From(builder.Configuration.GetSection(ShardsTlsOptions.Section).Get<ShardsTlsOptions>());
        var kubernetes = builder.Configuration.GetSection(ShardsKubernetesOptions.Section).Get<ShardsKubernetesOptions>() ?? new();

        // The settings only services read: bound when the container is built, validated at start.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>());
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ShardsOperatorOptions>, ShardsOperatorOptionsValidator>());
        builder.Services.AddOptions<ShardsOperatorOptions>().BindConfiguration(ShardsOperatorOptions.Section).ValidateOnStart();
        builder.Services.AddHostedService<ParentProcessWatch>();
        builder.Services.AddHealthChecks().AddCachedReadinessCheck<PostgresHealthCheck>("postgresql");
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.AddShardsTelemetry(endpoints.EffectiveName, telemetry);
        builder.UseOrleans(silo => silo.ConfigureShardsSilo(connectionString.Value, cluster, endpoints, failureDetection, storage, tls, readLeases)
            .AddShardsSiloTelemetry(telemetry)
            .AddShardsDashboard(dashboard)
            .AddShardsKubernetesHosting(kubernetes));
        return builder;
    }

    /// <summary>
    /// Microsoft.Orleans.Hosting.Kubernetes when <see cref="ShardsKubernetesOptions.Enabled"/>: the silo watches the
    /// cluster's pods and declares a silo dead as soon as its pod is deleted. Only inside a pod.
    /// </summary>
    internal static ISiloBuilder AddShardsKubernetesHosting(this ISiloBuilder silo, ShardsKubernetesOptions kubernetes) =>
        kubernetes.Enabled ? silo.UseKubernetesHosting() : silo;

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
        ClusterTls? tls = null,
        ProductReadLeaseOptions? readLeases = null)
    {
        var detection = failureDetection ?? new FailureDetectionOptions();
        var majorityLease = detection.MajorityLeaseEnabled && endpoints is not null;
        if (majorityLease)
        {
            // Only with real endpoints to probe: in-process test clusters (no endpoints) run on an in-memory transport.
            silo.AddMajorityLease(new MajorityLeaseOptions(detection.MajorityLease, detection.LeaseProbePeriod), tls);
        }

        // Read leases count on the majority lease to stop a silo cut off from the cluster answering from its copies: off
        // without it, unless in-process (one process: nothing to cut off).
        if ((readLeases ?? new ProductReadLeaseOptions()) is { Enabled: true } leases && (majorityLease || endpoints is null))
        {
            silo.AddProductReadLeases(leases);
        }

        silo.AddIncomingGrainCallFilter<OperatorCallFilter>();
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = detection.ProbeTimeout;
            o.MaxProbeTimeout = detection.MaxProbeTimeout < detection.ProbeTimeout ? detection.ProbeTimeout : detection.MaxProbeTimeout;
            o.NumMissedProbesLimit = detection.MissedProbesLimit;
            o.NumVotesForDeathDeclaration = detection.VotesForDeathDeclaration;
            o.IAmAliveTablePublishTimeout = detection.IAmAlivePublishPeriod;
            o.DefunctSiloExpiration = detection.DefunctSiloExpiration;
            o.DefunctSiloCleanupPeriod = detection.DefunctSiloCleanupPeriod;
            if (detection.TableRefreshPeriod is { } refresh)
            {
                o.TableRefreshTimeout = refresh;
            }
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
            silo.Services.Replace(ServiceDescriptor.Singleton<IFatalErrorHandler, ImmediateFatalErrorHandler>());
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

        silo.AddRequestLog(o => o.BindConfiguration(RequestLogOptions.Section));
        silo.AddConsistentHashPlacement(o => o.BindConfiguration(PlacementOptions.Section));
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
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SimulatedPaymentGatewayOptions>, SimulatedPaymentGatewayOptionsValidator>());
        silo.Services.AddOptions<SimulatedPaymentGatewayOptions>().BindConfiguration(SimulatedPaymentGatewayOptions.Section).ValidateOnStart();
        silo.Services.AddPostgresDataSources();
        silo.Services.TryAddSingleton<IPaymentGateway>(services => new SimulatedPaymentGateway(
            services.GetRequiredService<PostgresDataSources>().For(connectionString),
            services.GetRequiredService<IOptions<ClusterOptions>>(),
            services.GetRequiredService<IOptions<SimulatedPaymentGatewayOptions>>(),
            services.GetService<TimeProvider>() ?? TimeProvider.System));
        return silo;
    }
}
