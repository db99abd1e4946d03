using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
    /// The silo's shard databases and its shard map monitor (the map itself lives in the main database at
    /// <paramref name="mainConnectionString"/>). Throws <see cref="InvalidOperationException"/> for a bad configuration.
    /// </summary>
    public static ISiloBuilder AddShardMap(this ISiloBuilder silo, string mainConnectionString, ShardSet shards, ShardsStorageOptions storage)
    {
        var validation = new ShardsStorageOptionsValidator().Validate(Options.DefaultName, storage);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(ShardsStorageOptions), validation.Failures);
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
