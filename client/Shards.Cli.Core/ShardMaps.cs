using Npgsql;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;
using Shards.Storage.Postgres.Resharding;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Cli.Core;

/// <summary>
/// The shard map and resharding requests as <c>shards shards</c>, <c>shards reshard</c> and the load's reshard
/// nemesis read and resolve them.
/// </summary>
public static class ShardMaps
{
    /// <summary>The service's current map; null when it has none (or its database predates shard maps).</summary>
    public static async Task<ShardMap?> ReadMapAsync(CliContext context, string mainConnectionString, string serviceId, CancellationToken cancellationToken)
    {
        try
        {
            return await new ShardMapStore(context.DataSources, mainConnectionString).ReadCurrentAsync(serviceId, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }

    /// <summary>Turns DB into a shard name and connection string; unknown databases are refused here, before anything changes.</summary>
    public static async Task<ReshardRequest> ResolveAsync(
        CliContext context, ReshardOperation operation, string database, string? name, ShardMap map, CancellationToken cancellationToken)
    {
        if (database.Contains('=', StringComparison.Ordinal))
        {
            ShardLocation location;
            try
            {
                location = new ShardConnection(name ?? "new", database).Location();
            }
            catch (ArgumentException ex)
            {
                throw new CliException($"DB is not a valid PostgreSQL connection string: {ex.Message}");
            }

            var known = map.Document.AllShards.FirstOrDefault(s => s.Port == location.Port && s.Database == location.Database && SameHost(s.Host, location.Host));
            if (operation == ReshardOperation.Remove)
            {
                return known is not null
                    ? new ReshardRequest(operation, known.Name, database)
                    : throw new CliException($"Unknown DB {location.Target}: it is not a shard of service '{context.Cluster.ServiceId}' (shard map version {map.Version}: {Describe(map)}). Nothing changed.");
            }

            var free = name ?? Enumerable.Range(0, ShardDatabases.MaxShards * 4).Select(i => $"s{i}").First(n => map.Document.AllShards.All(s => s.Name != n));
            return new ReshardRequest(operation, free, database);
        }

        if (context.StorageOptions.Shards.FirstOrDefault(s => s.Name == database) is { } configured)
        {
            return new ReshardRequest(operation, database, configured.ConnectionString);
        }

        if (operation == ReshardOperation.Remove || map.Document.Find(database) is not null)
        {
            // The coordinator refuses a name the map lacks (remove) or has (add), with the map in the message.
            return new ReshardRequest(operation, database, null);
        }

        if (context.ConfiguredConnectionString is null && LauncherName(database))
        {
            var server = await context.PrivateDatabaseAsync(cancellationToken);
            var connectionString = await server.CreateDatabaseAsync($"shards_{database}", cancellationToken);
            CliOutput.Status($"Shard '{database}' is the private PostgreSQL's database shards_{database} ({PostgresAvailability.Describe(connectionString)}).");
            return new ReshardRequest(operation, database, connectionString);
        }

        throw new CliException(
            $"Unknown DB '{database}': not a configured shard (Shards__Storage__Shards__N__Name) nor one of the shard map ({Describe(map)})" +
            (context.ConfiguredConnectionString is null ? ", and not a launcher shard name sN" : string.Empty) +
            ". Give its connection string instead (as name:NAME with ConnectionStrings__NAME set, or - on stdin). Nothing changed.");
    }

    public static bool LauncherName(string name) =>
        name.Length > 1 && name[0] == 's' && name[1..].All(char.IsAsciiDigit) && int.TryParse(name[1..], out var n) && n < ShardDatabases.MaxShards * 4;

    private static bool SameHost(string a, string b) => a == b || (IsLoopback(a) && IsLoopback(b));

    private static bool IsLoopback(string host) => host is "localhost" or "127.0.0.1" or "::1";

    private static string Describe(ShardMap map) => string.Join(", ", map.Document.Shards.Select(s => $"{s.Name} {s.Target}"));
}
