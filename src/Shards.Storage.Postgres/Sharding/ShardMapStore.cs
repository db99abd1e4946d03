using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Shards.Postgres;

namespace Shards.Storage.Postgres.Sharding;

/// <summary>
/// Shards' shard map in PostgreSQL (0005_shard_map.sql): the versions in the main database, and each shard
/// database's identity. Silos, the CLI and tests read and write it through here.
/// </summary>
/// <param name="dataSources">The owner's data sources: the main database's and each shard database's.</param>
/// <param name="mainConnectionString">The main database, where the map's versions are.</param>
public sealed class ShardMapStore(PostgresDataSources dataSources, string mainConnectionString)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>The highest version of <paramref name="serviceId"/>'s map, or null when it has none yet.</summary>
    public async Task<ShardMap?> ReadCurrentAsync(string serviceId, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSources.For(mainConnectionString).OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT version, created_at, map::text FROM shards_shard_map WHERE serviceid = @service ORDER BY version DESC LIMIT 1", connection);
        command.Parameters.AddWithValue("service", serviceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var document = JsonSerializer.Deserialize<ShardMapDocument>(reader.GetString(2), s_json)
            ?? throw new InvalidOperationException($"Shard map version {reader.GetInt32(0)} of service '{serviceId}' is empty.");
        return new ShardMap(serviceId, reader.GetInt32(0), reader.GetFieldValue<DateTimeOffset>(1), document);
    }

    /// <summary>
    /// Stores <paramref name="document"/> as <paramref name="version"/>; false when that version already exists
    /// (another silo or coordinator got there first: read the current one again).
    /// </summary>
    public async Task<bool> TryPublishAsync(string serviceId, int version, ShardMapDocument document, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSources.For(mainConnectionString).OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "INSERT INTO shards_shard_map (serviceid, version, map) VALUES (@service, @version, @map) ON CONFLICT DO NOTHING", connection);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("version", version);
        command.Parameters.AddWithValue("map", NpgsqlDbType.Jsonb, JsonSerializer.Serialize(document, s_json));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// The shard name the database at <paramref name="shardConnectionString"/> has for <paramref name="serviceId"/>;
    /// a database nobody claimed yet becomes <paramref name="shardName"/>.
    /// </summary>
    public async Task<string> ClaimIdentityAsync(
        string shardConnectionString, string serviceId, string shardName, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSources.For(shardConnectionString).OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            WITH claimed AS (
                INSERT INTO shards_shard_identity (serviceid, shard) VALUES (@service, @shard)
                ON CONFLICT (serviceid) DO NOTHING
                RETURNING shard)
            SELECT shard FROM claimed
            UNION ALL
            SELECT shard FROM shards_shard_identity WHERE serviceid = @service
            LIMIT 1
            """, connection);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("shard", shardName);

        // A claim racing another one's uncommitted claim waits for it, then finds neither its own row nor (in the
        // statement's snapshot) the other's: ask again, and the committed claim is visible.
        for (var attempt = 0; ; attempt++)
        {
            if (await command.ExecuteScalarAsync(cancellationToken) is string claimed)
            {
                return claimed;
            }

            if (attempt == 2)
            {
                throw new InvalidOperationException($"Could not read the shard identity of {PostgresAvailability.Describe(shardConnectionString)}.");
            }
        }
    }
}
