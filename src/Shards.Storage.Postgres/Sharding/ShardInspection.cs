using Npgsql;
using Shards.Postgres;

namespace Shards.Storage.Postgres.Sharding;

/// <summary>Rows and payload bytes of one state name in one shard database.</summary>
public sealed record ShardStateStatistics(string State, long Rows, long Bytes);

/// <summary>
/// What operators look at from outside the cluster: shard databases' contents, reached through the stored map. Which
/// connection reaches a shard is decided statically (<see cref="ConnectionsFor"/>); the statistics are read through an
/// instance on the owner's data sources.
/// </summary>
/// <param name="dataSources">The owner's data sources, one per shard database.</param>
public sealed class ShardInspection(PostgresDataSources dataSources)
{
    /// <summary>
    /// Connection strings for the shards of <paramref name="map"/>: the configured one when a shard of that name is
    /// configured (<c>Shards:Storage:Shards</c>), else the main connection string (its credentials and settings)
    /// pointed at the host, port and database the map records.
    /// </summary>
    public static IReadOnlyList<ShardConnection> ConnectionsFor(ShardMapDocument map, string mainConnectionString, ShardsStorageOptions? configured)
    {
        return map.AllShards.Select(location => ConnectionFor(location, mainConnectionString, configured)).ToList();
    }

    /// <summary>One shard's connection: configured, else the main connection string pointed at the shard's database.</summary>
    public static ShardConnection ConnectionFor(ShardLocation location, string mainConnectionString, ShardsStorageOptions? configured)
    {
        var own = configured?.Shards.FirstOrDefault(s => s.Name == location.Name && !string.IsNullOrWhiteSpace(s.ConnectionString));
        var connectionString = own?.ConnectionString ?? new NpgsqlConnectionStringBuilder(mainConnectionString)
        {
            Host = location.Host,
            Port = location.Port,
            Database = location.Database,
        }.ConnectionString;
        return new ShardConnection(location.Name, connectionString);
    }

    /// <summary>Rows and bytes (<c>octet_length(payloadbinary)</c>) per state name of one service in one shard database.</summary>
    public async Task<IReadOnlyList<ShardStateStatistics>> StatisticsAsync(
        string shardConnectionString, string serviceId, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSources.For(shardConnectionString).OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT graintypestring, count(*), coalesce(sum(octet_length(payloadbinary)), 0)::bigint
              FROM orleans_storage
             WHERE serviceid = @service
             GROUP BY graintypestring
             ORDER BY graintypestring
            """, connection);
        command.Parameters.AddWithValue("service", serviceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<ShardStateStatistics>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new ShardStateStatistics(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
        }

        return result;
    }
}
