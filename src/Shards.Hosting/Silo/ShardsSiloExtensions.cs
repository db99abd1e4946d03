using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Shards.Api.Health;
using Shards.Contracts;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Shards.Grains.Carts;
using Shards.Grains.Catalog;
using Shards.Grains.Orders;
using Shards.Grains.Payments;
using Shards.Hosting.Database;
using Shards.Hosting.Observability;
using Shards.Hosting.Payments;
using Shards.Hosting.Options;
using Shards.Hosting.Placement;
using Shards.Hosting.Security;
using Shards.Hosting.Sharding;
using Shards.Hosting.Storage;
using Shards.Storage;

namespace Shards.Hosting.Silo;

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
        silo.Services.TryAddSingleton<IPaymentGateway>(services => new SimulatedPaymentGateway(
            connectionString,
            services.GetRequiredService<IOptions<ClusterOptions>>(),
            services.GetRequiredService<IOptions<SimulatedPaymentGatewayOptions>>(),
            services.GetService<TimeProvider>() ?? TimeProvider.System));
        return silo;
    }

    /// <summary>
    /// The request log's options (section <c>Shards:Storage:RequestLog</c>, validated at start) and its pruner, which
    /// deletes rows past their retention from every shard database (docs/exactly-once.md).
    /// </summary>
    public static ISiloBuilder AddRequestLog(this ISiloBuilder silo)
    {
        silo.Services.AddOptions<RequestLogOptions>().BindConfiguration(RequestLogOptions.Section);
        silo.Services.AddSingleton<IValidateOptions<RequestLogOptions>, RequestLogOptionsValidation>();
        silo.Services.AddOptions<RequestLogOptions>().ValidateOnStart();
        silo.Services.AddSingleton<RequestLogPruner>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<RequestLogPruner>());
        return silo;
    }

    /// <summary>
    /// The silo's shard databases and its shard map monitor (the map itself lives in the main database at
    /// <paramref name="mainConnectionString"/>). Throws <see cref="InvalidOperationException"/> for a bad configuration.
    /// </summary>
    public static ISiloBuilder AddShardMap(this ISiloBuilder silo, string mainConnectionString, ShardSet shards, ShardsStorageOptions storage)
    {
        if (storage.MapRefreshPeriod <= TimeSpan.Zero || storage.MapLease <= storage.MapRefreshPeriod)
        {
            throw new InvalidOperationException(
                $"Shards:Storage:MapLease ({storage.MapLease}) must be longer than Shards:Storage:MapRefreshPeriod ({storage.MapRefreshPeriod}), which must be positive.");
        }

        silo.Services.AddSingleton(shards);
        silo.Services.AddSingleton(services => new ShardMapMonitor(
            mainConnectionString,
            services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            shards,
            storage,
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetRequiredService<ILogger<ShardMapMonitor>>()));
        return silo;
    }

    /// <summary>
    /// A grain storage named <paramref name="storageName"/> over the silo's shards (<see cref="AddShardMap"/>):
    /// per shard, Orleans' ADO.NET grain storage on Shards' schema (named <c>storage@shard</c>, e.g. <c>catalog@s0</c>)
    /// with the Orleans binary serializer; state types are identified by their [Alias], so renaming a class does not
    /// orphan stored state (the JSON default embeds the assembly-qualified type name). The sharded storage routes
    /// each grain to its shard, and the failure translation outside it keeps driver exceptions off the wire. With
    /// <paramref name="groupCommit"/> enabled (the default), each shard's writes go through
    /// <see cref="GroupCommitGrainStorage"/>: concurrent writes share one transaction.
    /// </summary>
    public static ISiloBuilder AddShardsGrainStorage(
        this ISiloBuilder silo, string storageName, ShardSet shards, GroupCommitOptions? groupCommit = null, TimeSpan? commandTimeout = null)
    {
        groupCommit ??= new GroupCommitOptions();
        string Timed(string connectionString) => commandTimeout is { } timeout ? WithCommandTimeout(connectionString, timeout) : connectionString;
        foreach (var shard in shards.Shards)
        {
            silo.Services.AddOptions<AdoNetGrainStorageOptions>(ShardStorageName(storageName, shard.Name))
                .Configure<IServiceProvider>((o, services) =>
                {
                    o.Invariant = AdoNetInvariants.PostgreSql;
                    o.ConnectionString = Timed(shard.ConnectionString);
                    o.GrainStorageSerializer = new OrleansGrainStorageSerializer(services.GetRequiredService<Orleans.Serialization.Serializer>());
                });
        }

        silo.Services.AddGrainStorage(storageName, (services, name) => new StorageFailureTranslation(
            name,
            new ShardedGrainStorage(
                name,
                services.GetRequiredService<ShardMapMonitor>(),
                shards.Shards.ToDictionary(s => s.Name, s => ShardStorage(services, ShardStorageName(name, s.Name), Timed(s.ConnectionString), groupCommit)),
                reached => ReachedShardStorage(services, name, new ShardConnection(reached.Name, Timed(reached.ConnectionString)), groupCommit)),
            services.GetRequiredService<ILoggerFactory>().CreateLogger<StorageFailureTranslation>()));
        return silo;
    }

    /// <summary>
    /// One shard's storage: Orleans' ADO.NET storage, behind group commit unless that is disabled; either way the shard
    /// database checks its write fence in each routed write's transaction (<see cref="IFencedGrainStorage"/>).
    /// </summary>
    private static IGrainStorage ShardStorage(IServiceProvider services, string name, string connectionString, GroupCommitOptions groupCommit) =>
        WithGroupCommit(services, name, AdoNetGrainStorageFactory.Create(services, name), connectionString, groupCommit);

    /// <summary>
    /// The storage for a shard of the map that the silo was not configured with (a resharding added it,
    /// <see cref="ShardsStorageOptions.ReachUnconfiguredShards"/>): configured like the others, created on first use.
    /// </summary>
    private static IGrainStorage ReachedShardStorage(IServiceProvider services, string storageName, ShardConnection shard, GroupCommitOptions groupCommit)
    {
        var name = ShardStorageName(storageName, shard.Name);
        var options = new AdoNetGrainStorageOptions
        {
            Invariant = AdoNetInvariants.PostgreSql,
            ConnectionString = shard.ConnectionString,
            GrainStorageSerializer = new OrleansGrainStorageSerializer(services.GetRequiredService<Orleans.Serialization.Serializer>()),
        };
        var adoNet = ActivatorUtilities.CreateInstance<AdoNetGrainStorage>(
            services, Microsoft.Extensions.Options.Options.Create(options), name, services.GetRequiredService<IOptions<ClusterOptions>>());
        return WithGroupCommit(services, name, adoNet, shard.ConnectionString, groupCommit);
    }

    private static IGrainStorage WithGroupCommit(
        IServiceProvider services, string name, AdoNetGrainStorage adoNet, string connectionString, GroupCommitOptions groupCommit)
    {
        var serviceId = services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;
        if (!groupCommit.Enabled)
        {
            return new FencedAdoNetGrainStorage(name, adoNet, connectionString, serviceId);
        }

        return new GroupCommitGrainStorage(
            name,
            adoNet,
            connectionString,
            serviceId,
            groupCommit,
            services.GetRequiredService<ILoggerFactory>().CreateLogger<GroupCommitGrainStorage>());
    }

    /// <summary>
    /// <paramref name="connectionString"/> with Npgsql's command timeout set to <paramref name="timeout"/> (whole seconds,
    /// at least 1): a grain read or write that PostgreSQL does not answer in time (a lock held on the storage table, a
    /// saturated server) fails with a clear storage error instead of holding the grain for Npgsql's default 30 s.
    /// </summary>
    public static string WithCommandTimeout(string connectionString, TimeSpan timeout) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)) }.ConnectionString;

    /// <summary>The name of one shard's ADO.NET storage inside a sharded storage, e.g. <c>catalog@s0</c>.</summary>
    public static string ShardStorageName(string storageName, string shardName) => $"{storageName}@{shardName}";
}
