using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Shards.Postgres;
using Shards.Server.Options;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Server.Silo;

/// <summary>
/// Runs first in the silo lifecycle, before Orleans touches the membership table or opens a socket:
/// refuses ports that are taken (the OS lets two silos share a port, and Orleans then declares the older one
/// dead), waits for PostgreSQL with retries, and applies Shards' schema to the main database and every shard database.
/// </summary>
internal sealed partial class SiloStartupChecks(
    IOptions<SiloEndpointOptions> endpoints,
    IOptions<DatabaseOptions> database,
    ShardsConnectionString connectionString,
    ShardSet shards,
    PostgresDataSources dataSources,
    IOptions<ClusterOptions> cluster,
    ILogger<SiloStartupChecks> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SiloStartupChecks), ServiceLifecycleStage.First, RunAsync);

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var options = endpoints.Value;
        LogStarting(logger, options.EffectiveName, cluster.Value.ClusterId, cluster.Value.ServiceId, options.AdvertisedAddress, options.SiloPort,
            options.GatewayPort, PostgresAvailability.Describe(connectionString.Value), string.Join(", ", shards.Shards));
        EnsurePortFree(options.ListenAddress, options.SiloPort, "silo port (Shards:Silo:SiloPort)");
        EnsurePortFree(options.ListenAddress, options.GatewayPort, "gateway port (Shards:Silo:GatewayPort)");

        try
        {
            var databases = new[] { connectionString.Value }
                .Concat(shards.Shards.Select(s => s.ConnectionString))
                .DistinctBy(PostgresAvailability.Describe);
            foreach (var target in databases)
            {
                var source = dataSources.For(target);
                await PostgresAvailability.WaitUntilReachableAsync(source, database.Value.StartupWait, logger, cancellationToken);
                if (database.Value.ApplySchemaOnStart)
                {
                    var report = await new SchemaMigrator(source).ApplyAsync(cancellationToken);
                    LogSchema(logger, PostgresAvailability.Describe(target), report.Applied.Count, report.AlreadyCurrent.Count);
                }
            }
        }
        catch (PostgresNotAvailableException ex)
        {
            throw new SiloStartupException(ex.Message, ex);
        }
    }

    /// <summary>Throws a <see cref="SiloStartupException"/> naming the setting when <paramref name="port"/> is taken.</summary>
    internal static void EnsurePortFree(string address, int port, string what)
    {
        var ip = IPAddress.Parse(address);
        try
        {
            using var probe = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            probe.ExclusiveAddressUse = true;
            probe.Bind(new IPEndPoint(ip, port));
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            throw new SiloStartupException(
                $"The {what} {address}:{port} is already in use (another silo or program listens there). " +
                "Choose a free port, or stop the other process (two silos on one silo port make Orleans declare one of them dead).");
        }
    }

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Silo {SiloName} of cluster {ClusterId} (service {ServiceId}) starting: " +
        "advertised {Address}, silo port {SiloPort}, gateway port {GatewayPort}; main database {Database}; grain state in {Shards}")]
    private static partial void LogStarting(
        ILogger logger, string siloName, string clusterId, string serviceId, string address, int siloPort, int gatewayPort, string database, string shards);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Schema ready in {Database}: {Applied} migration(s) applied, {Current} already current")]
    private static partial void LogSchema(ILogger logger, string database, int applied, int current);
}
