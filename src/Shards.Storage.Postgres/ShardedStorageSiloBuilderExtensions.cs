using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Shards.Postgres;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Storage.Postgres;

/// <summary>
/// Registers the sharded PostgreSQL grain storage on a silo: the shard map (<see cref="AddShardMap"/>), one grain
/// storage per storage name over the shards (<see cref="AddShardsGrainStorage"/>) and the request log's pruner
/// (<see cref="AddRequestLog"/>).
/// </summary>
public static class ShardedStorageSiloBuilderExtensions
{
    /// <summary>
    /// The request log's options (section <c>Shards:Storage:RequestLog</c>, validated at start) and its pruner, which
    /// deletes rows past their retention from every shard database (docs/exactly-once.md).
    /// </summary>
    public static ISiloBuilder AddRequestLog(this ISiloBuilder silo, Action<OptionsBuilder<RequestLogOptions>>? configure = null)
    {
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RequestLogOptions>, RequestLogOptionsValidator>());
        var options = silo.Services.AddOptions<RequestLogOptions>().ValidateOnStart();
        (configure ?? (o => o.BindConfiguration(RequestLogOptions.Section)))(options);
        silo.Services.AddSingleton<RequestLogPruner>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<RequestLogPruner>());
        return silo;
    }

    /// <summary>
    /// The silo's shard databases, their data sources (<see cref="PostgresDataSourcesServiceCollectionExtensions.AddShardsDataSources"/>:
    /// the main database's, and each shard's keyed by its name), the shard map's store and monitor (the map itself lives
    /// in the main database at <paramref name="mainConnectionString"/>), <see cref="ShardInspection"/> and the listing's
    /// <see cref="IStoredStateQuery"/> over the map's shards (<see cref="ShardedStateQuery"/>). Throws
    /// <see cref="OptionsValidationException"/> for a bad configuration.
    /// </summary>
    public static ISiloBuilder AddShardMap(this ISiloBuilder silo, string mainConnectionString, ShardSet shards, ShardsStorageOptions storage)
    {
        new ShardsStorageOptionsValidator().ThrowIfInvalid(storage);

        silo.Services.AddShardsDataSources(mainConnectionString, shards.Shards.Select(s => KeyValuePair.Create(s.Name, s.ConnectionString)));
        silo.Services.AddSingleton(shards);
        silo.Services.AddSingleton(services => new ShardMapStore(services.GetRequiredService<PostgresDataSources>(), mainConnectionString));
        silo.Services.AddSingleton<ShardInspection>();
        silo.Services.AddSingleton(services => new ShardMapMonitor(
            services.GetRequiredService<PostgresDataSources>(),
            mainConnectionString,
            services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            shards,
            storage,
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetRequiredService<ILogger<ShardMapMonitor>>()));
        silo.Services.AddSingleton<IStoredStateQuery>(services => new ShardedStateQuery(
            services.GetRequiredService<ShardMapMonitor>(),
            services.GetRequiredService<PostgresDataSources>(),
            new OrleansGrainStorageSerializer(services.GetRequiredService<Orleans.Serialization.Serializer>()),
            storage.CommandTimeout));
        return silo;
    }

    /// <summary>
    /// A grain storage named <paramref name="storageName"/> over the silo's shards (<see cref="AddShardMap"/>):
    /// per shard, Orleans' ADO.NET grain storage on Shards' schema (named <c>storage@shard</c>, e.g. <c>catalog@s0</c>)
    /// with the Orleans binary serializer; state types are identified by their [Alias], so renaming a class does not
    /// orphan stored state (the JSON default embeds the assembly-qualified type name). The sharded storage routes
    /// each grain to its shard, and the failure translation outside it keeps driver exceptions off the wire. With
    /// <paramref name="groupCommit"/> enabled (the default), each shard's writes go through
    /// <see cref="GroupCommitGrainStorage"/>: concurrent writes share one transaction. Shards' own reads and writes use the
    /// shard database's data source (keyed by the shard's name, <see cref="AddShardMap"/>), shared by every storage name,
    /// each statement bounded by <paramref name="commandTimeout"/>; Orleans' storage (clears) gets it in its connection string.
    /// </summary>
    public static ISiloBuilder AddShardsGrainStorage(
        this ISiloBuilder silo, string storageName, ShardSet shards, GroupCommitOptions? groupCommit = null, TimeSpan? commandTimeout = null)
    {
        groupCommit ??= new GroupCommitOptions();
        foreach (var shard in shards.Shards)
        {
            silo.Services.AddOptions<AdoNetGrainStorageOptions>(ShardStorageName(storageName, shard.Name))
                .Configure<IServiceProvider>((o, services) =>
                {
                    o.Invariant = AdoNetInvariants.PostgreSql;
                    o.ConnectionString = Timed(shard.ConnectionString, commandTimeout);
                    o.GrainStorageSerializer = new OrleansGrainStorageSerializer(services.GetRequiredService<Orleans.Serialization.Serializer>());
                });
        }

        silo.Services.AddGrainStorage(storageName, (services, name) => new StorageFailureTranslation(
            name,
            new ShardedGrainStorage(
                name,
                services.GetRequiredService<ShardMapMonitor>(),
                shards.Shards.ToDictionary(
                    s => s.Name,
                    s => ShardStorage(services, ShardStorageName(name, s.Name), services.GetRequiredKeyedService<NpgsqlDataSource>(s.Name), commandTimeout, groupCommit)),
                reached => ReachedShardStorage(services, name, reached, commandTimeout, groupCommit)),
            services.GetRequiredService<ILoggerFactory>().CreateLogger<StorageFailureTranslation>()));
        return silo;
    }

    /// <summary>
    /// One shard's storage: Orleans' ADO.NET storage, behind group commit unless that is disabled; either way the shard
    /// database checks its write fence in each routed write's transaction (<see cref="IFencedGrainStorage"/>).
    /// </summary>
    private static IGrainStorage ShardStorage(
        IServiceProvider services, string name, NpgsqlDataSource dataSource, TimeSpan? commandTimeout, GroupCommitOptions groupCommit) =>
        WithGroupCommit(services, name, AdoNetGrainStorageFactory.Create(services, name), dataSource, commandTimeout, groupCommit);

    /// <summary>
    /// The storage for a shard of the map that the silo was not configured with (a resharding added it,
    /// <see cref="ShardsStorageOptions.ReachUnconfiguredShards"/>): configured like the others, created on first use, on the
    /// data source the silo's registry has for its database.
    /// </summary>
    private static IGrainStorage ReachedShardStorage(
        IServiceProvider services, string storageName, ShardConnection shard, TimeSpan? commandTimeout, GroupCommitOptions groupCommit)
    {
        var name = ShardStorageName(storageName, shard.Name);
        var options = new AdoNetGrainStorageOptions
        {
            Invariant = AdoNetInvariants.PostgreSql,
            ConnectionString = Timed(shard.ConnectionString, commandTimeout),
            GrainStorageSerializer = new OrleansGrainStorageSerializer(services.GetRequiredService<Orleans.Serialization.Serializer>()),
        };
        var adoNet = ActivatorUtilities.CreateInstance<AdoNetGrainStorage>(
            services, Microsoft.Extensions.Options.Options.Create(options), name, services.GetRequiredService<IOptions<ClusterOptions>>());
        var dataSource = services.GetRequiredService<PostgresDataSources>().For(shard.ConnectionString);
        return WithGroupCommit(services, name, adoNet, dataSource, commandTimeout, groupCommit);
    }

    private static IGrainStorage WithGroupCommit(
        IServiceProvider services, string name, AdoNetGrainStorage adoNet, NpgsqlDataSource dataSource, TimeSpan? commandTimeout, GroupCommitOptions groupCommit)
    {
        var serviceId = services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;
        if (!groupCommit.Enabled)
        {
            return new FencedAdoNetGrainStorage(name, adoNet, dataSource, commandTimeout, serviceId);
        }

        return new GroupCommitGrainStorage(
            name,
            adoNet,
            dataSource,
            commandTimeout,
            serviceId,
            groupCommit,
            services.GetRequiredService<ILoggerFactory>().CreateLogger<GroupCommitGrainStorage>());
    }

    /// <summary>
    /// <paramref name="connectionString"/> with Npgsql's command timeout set to <paramref name="timeout"/> (whole seconds,
    /// at least 1): a grain read or write that PostgreSQL does not answer in time (a lock held on the storage table, a
    /// saturated server) fails with a clear storage error instead of holding the grain for Npgsql's default 30 s. For
    /// Orleans' storage; Shards' own statements set the same timeout on each command (<see cref="CommandTimeoutSeconds"/>).
    /// </summary>
    public static string WithCommandTimeout(string connectionString, TimeSpan timeout) =>
        new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = CommandTimeoutSeconds(timeout) }.ConnectionString;

    /// <summary>Npgsql's command timeout for <paramref name="timeout"/>: whole seconds, rounded up, at least 1.</summary>
    public static int CommandTimeoutSeconds(TimeSpan timeout) => Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));

    private static string Timed(string connectionString, TimeSpan? timeout) =>
        timeout is { } value ? WithCommandTimeout(connectionString, value) : connectionString;

    /// <summary>The name of one shard's ADO.NET storage inside a sharded storage, e.g. <c>catalog@s0</c>.</summary>
    public static string ShardStorageName(string storageName, string shardName) => $"{storageName}@{shardName}";
}
