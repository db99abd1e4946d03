using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Storage.Postgres.Resharding;

/// <summary>A resharding in progress as <c>shards_resharding</c> (0008_resharding.sql) records it.</summary>
public sealed record ReshardingRecord(
    int MovingVersion, ReshardOperation Operation, string Shard, int FromVersion, int? TargetVersion, long KeysMoved, DateTimeOffset StartedAt);

/// <summary>The resharding progress table in the main database, and the map versions a resharding publishes with it.</summary>
/// <param name="main">The main database.</param>
public sealed class ReshardingStore(NpgsqlDataSource main)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>The service's unfinished resharding, or null.</summary>
    public async Task<ReshardingRecord?> ReadInProgressAsync(string serviceId, CancellationToken cancellationToken)
    {
        await using var connection = await main.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT moving_version, operation, shard, from_version, target_version, keys_moved, started_at
              FROM shards_resharding WHERE serviceid = @service AND finished_at IS NULL
            """, connection);
        command.Parameters.AddWithValue("service", serviceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new ReshardingRecord(
            reader.GetInt32(0),
            reader.GetString(1) == "add" ? ReshardOperation.Add : ReshardOperation.Remove,
            reader.GetString(2),
            reader.GetInt32(3),
            await reader.IsDBNullAsync(4, cancellationToken) ? null : reader.GetInt32(4),
            reader.GetInt64(5),
            reader.GetFieldValue<DateTimeOffset>(6));
    }

    /// <summary>
    /// Publishes the moving map as <paramref name="movingVersion"/> and records the resharding, in one transaction.
    /// False when that map version exists already (someone else changed the map): nothing is stored.
    /// </summary>
    public async Task<bool> TryBeginAsync(
        string serviceId, ReshardRequest request, int fromVersion, int movingVersion, ShardMapDocument moving, CancellationToken cancellationToken)
    {
        await using var connection = await main.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await InsertMapAsync(connection, transaction, serviceId, movingVersion, moving, cancellationToken))
        {
            return false;
        }

        await using var command = new NpgsqlCommand(
            """
            INSERT INTO shards_resharding (serviceid, moving_version, operation, shard, from_version)
            VALUES (@service, @moving, @operation, @shard, @from)
            """, connection, transaction);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("moving", movingVersion);
        command.Parameters.AddWithValue("operation", request.Verb);
        command.Parameters.AddWithValue("shard", request.Name);
        command.Parameters.AddWithValue("from", fromVersion);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Publishes the target map as <paramref name="targetVersion"/> and records it, in one transaction; false when that version exists.</summary>
    public async Task<bool> TryPublishTargetAsync(
        string serviceId, int movingVersion, int targetVersion, ShardMapDocument target, CancellationToken cancellationToken)
    {
        await using var connection = await main.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await InsertMapAsync(connection, transaction, serviceId, targetVersion, target, cancellationToken))
        {
            return false;
        }

        await using var command = new NpgsqlCommand(
            "UPDATE shards_resharding SET target_version = @target, updated_at = now() WHERE serviceid = @service AND moving_version = @moving",
            connection, transaction);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("moving", movingVersion);
        command.Parameters.AddWithValue("target", targetVersion);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Adds <paramref name="keys"/> to the moved count.</summary>
    public Task RecordMovedAsync(string serviceId, int movingVersion, long keys, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "UPDATE shards_resharding SET keys_moved = keys_moved + @keys, updated_at = now() WHERE serviceid = @service AND moving_version = @moving",
            cancellationToken,
            ("service", serviceId), ("moving", movingVersion), ("keys", keys));

    public Task FinishAsync(string serviceId, int movingVersion, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "UPDATE shards_resharding SET finished_at = now(), updated_at = now() WHERE serviceid = @service AND moving_version = @moving",
            cancellationToken,
            ("service", serviceId), ("moving", movingVersion));

    private static async Task<bool> InsertMapAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string serviceId, int version, ShardMapDocument document, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "INSERT INTO shards_shard_map (serviceid, version, map) VALUES (@service, @version, @map) ON CONFLICT DO NOTHING", connection, transaction);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("version", version);
        command.Parameters.AddWithValue("map", NpgsqlDbType.Jsonb, JsonSerializer.Serialize(document, s_json));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await main.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
