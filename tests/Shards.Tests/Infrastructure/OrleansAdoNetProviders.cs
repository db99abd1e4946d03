using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Messaging;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Client;
using Shards.Server.Silo;
using Shards.Storage.Postgres;

namespace Shards.Tests.Infrastructure;

/// <summary>
/// Orleans' ADO.NET providers exactly as a Shards silo registers them (<see cref="ShardsSiloExtensions.ConfigureShardsSilo"/>),
/// resolved from a silo host that is built but never started: no silo, no sockets, only the provider objects
/// talking to PostgreSQL. Some provider types are internal (the reminder table), so everything is resolved through
/// the public service interfaces a silo uses.
/// </summary>
public sealed class OrleansAdoNetProviders : IDisposable
{
    private readonly IHost _host;

    private OrleansAdoNetProviders(IHost host) => _host = host;

    /// <summary>
    /// Providers for one cluster and service in the database at <paramref name="connectionString"/>; grain state in the
    /// shards of <paramref name="storage"/>, or in that database when it names none; on the clock <paramref name="time"/>
    /// when given (e.g. a FakeTimeProvider for the shard map's lease), else the system's.
    /// </summary>
    public static OrleansAdoNetProviders ForSilo(
        string connectionString, string clusterId, string serviceId, ShardsStorageOptions? storage = null, TimeProvider? time = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var cluster = new ShardsClusterOptions { ClusterId = clusterId, ServiceId = serviceId };
        builder.UseOrleans(silo => silo.ConfigureShardsSilo(connectionString, cluster, endpoints: null, storage: storage));
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        return new OrleansAdoNetProviders(builder.Build());
    }

    /// <summary>
    /// Orleans' plain ADO.NET grain storage named <paramref name="storageName"/> on <paramref name="connectionString"/>,
    /// with the serializer Shards uses, and nothing of Shards around it: what sharded storage is compared with.
    /// </summary>
    public static OrleansAdoNetProviders ForPlainAdoNetStorage(string connectionString, string serviceId, string storageName)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo =>
        {
            silo.Configure<Orleans.Configuration.ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ($"cluster-{serviceId}", serviceId));
            silo.AddAdoNetGrainStorage(storageName, o =>
            {
                o.Invariant = Shards.Postgres.AdoNetInvariants.PostgreSql;
                o.ConnectionString = connectionString;
            });
            silo.Services.AddOptions<Orleans.Configuration.AdoNetGrainStorageOptions>(storageName).Configure<IServiceProvider>((o, services) =>
                o.GrainStorageSerializer = new OrleansGrainStorageSerializer(services.GetRequiredService<Orleans.Serialization.Serializer>()));
        });
        return new OrleansAdoNetProviders(builder.Build());
    }

    public IServiceProvider Services => _host.Services;

    /// <summary>The membership table, not yet initialised (tests call <c>InitializeMembershipTable</c> themselves).</summary>
    public IMembershipTable MembershipTable() => Services.GetRequiredService<IMembershipTable>();

    /// <summary>The reminder table after its start-up (which loads the queries from <c>OrleansQuery</c>).</summary>
    public async Task<IReminderTable> ReminderTableAsync()
    {
        var table = Services.GetRequiredService<IReminderTable>();
        await table.StartAsync(CancellationToken.None);
        return table;
    }

    /// <summary>
    /// The named grain storage after its silo start-up stage has run (the provider loads its queries in a lifecycle
    /// observer, not in its constructor).
    /// </summary>
    public async Task<IGrainStorage> GrainStorageAsync(string storageName)
    {
        var storage = Services.GetRequiredKeyedService<IGrainStorage>(storageName);
        var lifecycle = new SiloLifecycleSubject(NullLogger<SiloLifecycleSubject>.Instance);
        ((ILifecycleParticipant<ISiloLifecycle>)storage).Participate(lifecycle);
        await lifecycle.OnStart(CancellationToken.None);
        return storage;
    }

    /// <summary>The client-side gateway list, wired like a Shards client (<see cref="ShardsClientExtensions.AddShardsClient"/>), initialised.</summary>
    public static async Task<(IGatewayListProvider Provider, IDisposable Owner)> GatewayListProviderAsync(string connectionString, string clusterId, string serviceId)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.AddShardsClient(connectionString, new ShardsClusterOptions { ClusterId = clusterId, ServiceId = serviceId });
        var host = builder.Build();
        var provider = host.Services.GetRequiredService<IGatewayListProvider>();
        await provider.InitializeGatewayListProviderAsync(CancellationToken.None);
        return (provider, host);
    }

    public void Dispose() => _host.Dispose();
}

/// <summary>Direct SQL against a test database, to check what the providers left in the tables.</summary>
public static class Sql
{
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        var result = await command.ExecuteScalarAsync();
        return (T)Convert.ChangeType(result!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task<int> ExecuteAsync(string connectionString, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return await command.ExecuteNonQueryAsync();
    }
}
