using System.Globalization;
using Npgsql;
using Orleans.Runtime;
using Shards.Contracts.Common;
using Shards.Postgres;

namespace Shards.Storage.Postgres.Sharding;

/// <summary>
/// The write fence that each shard database keeps for a service (0009_write_fence.sql): the oldest shard map version
/// whose reads and writes it still accepts. A write's transaction starts with <see cref="Check"/>, which holds a shared
/// lock on the fence until the write commits and fails the whole transaction when the write was routed with an older
/// map; a routed read runs under the same check (<see cref="ReadAsync"/>). A resharding coordinator
/// <see cref="CloseAsync">closes</see> a shard to older maps before it scans it. So no write routed with the map before
/// a resharding can land in a shard after the coordinator's scan of it, however long it waited on its way, and no read
/// routed with it answers from a shard whose rows may have started to move (docs/sharding.md, "The write fence").
/// The statements a write or read carries are static; closing and reading a shard's fence go through an instance on the
/// owner's data sources (<paramref name="dataSources"/>).
/// </summary>
/// <param name="dataSources">The owner's data sources, one per shard database.</param>
public sealed class ShardWriteFence(PostgresDataSources dataSources)
{
    /// <summary>SQLSTATE of a write refused by the fence; its HINT is the oldest map version the shard accepts.</summary>
    public const string RefusedState = "SHW01";

    /// <summary>SQLSTATE of a write to a database that has no shard identity for the service (it cannot be fenced).</summary>
    public const string NoIdentityState = "SHW02";

    /// <summary>Where a <see cref="Refusal"/> keeps the oldest map version the shard accepts (in <see cref="Exception.Data"/>).</summary>
    private const string AcceptedVersionKey = "shards.write-fence.accepted";

    /// <summary>The first statement of a write transaction routed with <paramref name="mapVersion"/>.</summary>
    public static NpgsqlBatchCommand Check(string serviceId, int mapVersion) => new("SELECT shards_write_fence(@ServiceId, @MapVersion)")
    {
        Parameters =
        {
            new NpgsqlParameter<string>("ServiceId", serviceId),
            new NpgsqlParameter<int>("MapVersion", mapVersion),
        },
    };

    /// <summary>
    /// Makes shard <paramref name="shard"/> refuse every write routed with a map older than <paramref name="mapVersion"/>
    /// (it never goes back). Returns once every write transaction that passed the check before has ended, so its rows
    /// are visible to a scan that starts afterwards. False when the database is not that shard of the service.
    /// </summary>
    public async Task<bool> CloseAsync(string connectionString, string serviceId, string shard, int mapVersion, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.For(connectionString).OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            UPDATE shards_shard_identity
               SET min_write_map_version = GREATEST(min_write_map_version, @version)
             WHERE serviceid = @service AND shard = @shard
            """, connection);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("shard", shard);
        command.Parameters.AddWithValue("version", mapVersion);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>The oldest map version shard <paramref name="shard"/> accepts writes of; null when the database is not that shard.</summary>
    public async Task<int?> ReadAsync(string connectionString, string serviceId, string shard, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSources.For(connectionString).OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT min_write_map_version FROM shards_shard_identity WHERE serviceid = @service AND shard = @shard", connection);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("shard", shard);
        return await command.ExecuteScalarAsync(cancellationToken) is int version ? version : null;
    }

    /// <summary>The oldest map version the shard accepts, when <paramref name="exception"/> is the fence refusing a write; else null.</summary>
    public static int? RefusedBelow(Exception exception) =>
        exception is PostgresException { SqlState: RefusedState, Hint: { } hint } && int.TryParse(hint, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : null;

    /// <summary>
    /// What a caller gets for a read or write (<paramref name="verb"/>) the fence refused: the stale-map refusal, transient
    /// (StorageUnavailable), which it retries under the current map. <see cref="AcceptedVersionOf"/> tells it apart from
    /// other storage failures, so that the silo reads the current map at once (<see cref="ShardMapMonitor.RefreshAfterRefusalAsync"/>).
    /// </summary>
    public static ShardsException Refusal(string storageName, string stateName, GrainId grainId, int routedVersion, int acceptedVersion, string verb = "write")
    {
        var refusal = new ShardsException(
            ShardsErrorCode.StorageUnavailable,
            $"Shard map changed: storage '{storageName}' refused to {verb} the {stateName} state of {grainId}, routed with shard map version {routedVersion}: " +
            $"a resharding closed that shard to maps older than version {acceptedVersion}. Nothing changed; retry, and the {verb} goes where the current map routes it.");
        refusal.Data[AcceptedVersionKey] = acceptedVersion;
        return refusal;
    }

    /// <summary>The oldest map version the shard accepts, when <paramref name="exception"/> is a <see cref="Refusal"/>; else null.</summary>
    public static int? AcceptedVersionOf(Exception exception) =>
        exception is ShardsException { Code: ShardsErrorCode.StorageUnavailable } refusal && refusal.Data[AcceptedVersionKey] is int version ? version : null;
}
