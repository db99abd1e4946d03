using Npgsql;
using NpgsqlTypes;
using Shards.Postgres;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Storage.Postgres.Resharding;

/// <summary>One stored grain state, identified as Orleans' ADO.NET storage keys it: state name and string key.</summary>
/// <param name="State">The state name (<c>graintypestring</c>).</param>
/// <param name="Key">The grain's string key (<c>grainidextensionstring</c>).</param>
/// <param name="GrainId">The grain id text the shard router hashes (<c>type/key</c>).</param>
public sealed record ShardRowKey(string State, string Key, string GrainId);

/// <summary>
/// The rows of one service in one shard database, as a resharding reads and moves them. Rows are copied with every
/// column (payload, version, hashes), so a grain's ETag stays valid in its new shard, and a grain's request-log rows
/// (<c>shards_request_log</c>, 0010_request_log.sql) move with its state row, in the same transactions.
/// </summary>
/// <param name="dataSources">The owner's data sources, one per shard database.</param>
public sealed class ShardRows(PostgresDataSources dataSources)
{
    /// <summary>
    /// Every row of <paramref name="serviceId"/> in the shard. Throws <see cref="ReshardException"/> for a row that
    /// cannot be placed: an unknown state name (no grain type to hash) or a numeric/Guid key (Shards' keys are strings).
    /// </summary>
    public async Task<IReadOnlyList<ShardRowKey>> ScanAsync(
        ShardConnection shard, string serviceId, IReadOnlyDictionary<string, string> grainTypes, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.For(shard.ConnectionString).OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT graintypestring, grainidn0, grainidn1, grainidextensionstring FROM orleans_storage WHERE serviceid = @service", connection);
        command.Parameters.AddWithValue("service", serviceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<ShardRowKey>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var state = reader.GetString(0);
            var key = await reader.IsDBNullAsync(3, cancellationToken) ? null : reader.GetString(3);
            if (reader.GetInt64(1) != 0 || reader.GetInt64(2) != 0 || key is null)
            {
                throw new ReshardException(
                    $"Shard {shard} holds a '{state}' row with a numeric or Guid key (n0 {reader.GetInt64(1)}, n1 {reader.GetInt64(2)}): " +
                    "its grain id text cannot be rebuilt to place it on the ring. Nothing was moved.");
            }

            if (!grainTypes.TryGetValue(state, out var grainType))
            {
                throw new ReshardException(
                    $"Shard {shard} holds rows of state '{state}', whose grain type resharding does not know " +
                    $"(known states: {string.Join(", ", grainTypes.Keys)}; add it to the coordinator's grain types by state). Nothing was moved.");
            }

            rows.Add(new ShardRowKey(state, key, $"{grainType}/{key}"));
        }

        return rows;
    }

    /// <summary>
    /// Moves <paramref name="keys"/> from <paramref name="from"/> to <paramref name="to"/>: locks them in the old shard
    /// (writes to them wait), copies them with their versions and their request-log rows into the new shard and commits
    /// there, then deletes them and the log rows it copied from the old shard and commits. A row that vanished since the
    /// scan is skipped. Returns the rows moved.
    /// A crash between the two commits leaves the row in both: the old shard's row still wins (silos ask it first),
    /// and the next run copies it again over the stale copy. The copy never replaces a row of the same or a newer version
    /// in the new shard (a write acknowledged there is never undone), and a log row already there stays as it is.
    /// </summary>
    public async Task<int> MoveAsync(
        ShardConnection from, ShardConnection to, string serviceId, IReadOnlyList<ShardRowKey> keys, CancellationToken cancellationToken)
    {
        await using var source = await dataSources.For(from.ConnectionString).OpenConnectionAsync(cancellationToken);
        await using var lockTransaction = await source.BeginTransactionAsync(cancellationToken);
        var rows = await LockAsync(source, lockTransaction, serviceId, keys, cancellationToken);
        if (rows.Count == 0)
        {
            return 0;
        }

        // A logged write inserts its log row and changes the state row in one transaction; the state rows are locked now,
        // so no such transaction of these grains can commit before this one: the log rows read here are all of theirs.
        var log = await ReadLogAsync(source, lockTransaction, serviceId, rows, cancellationToken);

        await using (var target = await dataSources.For(to.ConnectionString).OpenConnectionAsync(cancellationToken))
        {
            await using var copyTransaction = await target.BeginTransactionAsync(cancellationToken);
            await using var batch = new NpgsqlBatch(target, copyTransaction);
            foreach (var row in rows)
            {
                var command = new NpgsqlBatchCommand(
                    """
                    INSERT INTO orleans_storage AS s
                        (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring,
                         grainidhash, graintypehash, payloadbinary, version, modifiedon)
                    VALUES (@service, @state, 0, 0, @key, @hash, @typehash, @payload, @version, @modified)
                    ON CONFLICT ON CONSTRAINT orleans_storage_grain_key DO UPDATE
                       SET grainidhash = EXCLUDED.grainidhash, graintypehash = EXCLUDED.graintypehash,
                           payloadbinary = EXCLUDED.payloadbinary, version = EXCLUDED.version, modifiedon = EXCLUDED.modifiedon
                     WHERE s.version < EXCLUDED.version
                    """);
                command.Parameters.AddWithValue("service", serviceId);
                command.Parameters.AddWithValue("state", row.State);
                command.Parameters.AddWithValue("key", row.Key);
                command.Parameters.AddWithValue("hash", row.GrainIdHash);
                command.Parameters.AddWithValue("typehash", row.GrainTypeHash);
                command.Parameters.Add(new NpgsqlParameter("payload", NpgsqlDbType.Bytea) { Value = (object?)row.Payload ?? DBNull.Value });
                command.Parameters.AddWithValue("version", row.Version);
                command.Parameters.AddWithValue("modified", row.ModifiedOn);
                batch.BatchCommands.Add(command);
            }

            if (log.Count > 0)
            {
                batch.BatchCommands.Add(CopyLog(serviceId, log));
            }

            await batch.ExecuteNonQueryAsync(cancellationToken);
            await copyTransaction.CommitAsync(cancellationToken);
        }

        await using (var delete = new NpgsqlBatch(source, lockTransaction))
        {
            delete.BatchCommands.Add(new NpgsqlBatchCommand(
                """
                DELETE FROM orleans_storage AS s
                 USING unnest(@states, @keys) AS k(state, key)
                 WHERE s.serviceid = @service AND s.graintypestring = k.state AND s.grainidextensionstring = k.key
                   AND s.grainidn0 = 0 AND s.grainidn1 = 0
                """)
            {
                Parameters =
                {
                    new NpgsqlParameter<string>("service", serviceId),
                    new NpgsqlParameter<string[]>("states", rows.Select(r => r.State).ToArray()),
                    new NpgsqlParameter<string[]>("keys", rows.Select(r => r.Key).ToArray()),
                },
            });
            if (log.Count > 0)
            {
                // Exactly the log rows copied: a row this transaction did not read stays where it is.
                delete.BatchCommands.Add(new NpgsqlBatchCommand(
                    """
                    DELETE FROM shards_request_log AS l
                     USING unnest(@hashes, @requests) AS k(hash, requestid)
                     WHERE l.grainidhash = k.hash AND l.requestid = k.requestid AND l.serviceid = @service
                    """)
                {
                    Parameters =
                    {
                        new NpgsqlParameter<string>("service", serviceId),
                        new NpgsqlParameter<int[]>("hashes", log.Select(r => r.GrainIdHash).ToArray()),
                        new NpgsqlParameter<Guid[]>("requests", log.Select(r => r.RequestId).ToArray()),
                    },
                });
            }

            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        await lockTransaction.CommitAsync(cancellationToken);
        return rows.Count;
    }

    /// <summary>The rows' stored columns, locked (FOR UPDATE) in the old shard's transaction.</summary>
    private static async Task<List<StoredRow>> LockAsync(
        NpgsqlConnection source, NpgsqlTransaction transaction, string serviceId, IReadOnlyList<ShardRowKey> keys, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT s.graintypestring, s.grainidextensionstring, s.grainidhash, s.graintypehash, s.payloadbinary, s.version, s.modifiedon
              FROM orleans_storage AS s
              JOIN unnest(@states, @keys) AS k(state, key)
                ON s.graintypestring = k.state AND s.grainidextensionstring = k.key
             WHERE s.serviceid = @service AND s.grainidn0 = 0 AND s.grainidn1 = 0
               FOR UPDATE OF s
            """, source, transaction);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("states", keys.Select(k => k.State).ToArray());
        command.Parameters.AddWithValue("keys", keys.Select(k => k.Key).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<StoredRow>(keys.Count);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new StoredRow(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetInt32(2),
                reader.GetInt32(3),
                await reader.IsDBNullAsync(4, cancellationToken) ? null : reader.GetFieldValue<byte[]>(4),
                reader.GetInt32(5),
                reader.GetFieldValue<DateTime>(6)));
        }

        return rows;
    }

    /// <summary>The request-log rows of the locked grains, read in the old shard's transaction.</summary>
    private static async Task<List<LogRow>> ReadLogAsync(
        NpgsqlConnection source, NpgsqlTransaction transaction, string serviceId, IReadOnlyList<StoredRow> rows, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT l.graintypestring, l.grainkey, l.requestid, l.expires_at, l.applied_at, l.outcome, l.grainidhash
              FROM shards_request_log AS l
              JOIN unnest(@hashes, @states, @keys) AS k(hash, state, key)
                ON l.grainidhash = k.hash AND l.graintypestring = k.state AND l.grainkey = k.key
             WHERE l.serviceid = @service
            """, source, transaction);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("hashes", rows.Select(r => r.GrainIdHash).ToArray());
        command.Parameters.AddWithValue("states", rows.Select(r => r.State).ToArray());
        command.Parameters.AddWithValue("keys", rows.Select(r => r.Key).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var log = new List<LogRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            log.Add(new LogRow(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetGuid(2),
                reader.GetFieldValue<DateTime>(3),
                reader.GetFieldValue<DateTime>(4),
                await reader.IsDBNullAsync(5, cancellationToken) ? null : reader.GetFieldValue<byte[]>(5),
                reader.GetInt32(6)));
        }

        return log;
    }

    /// <summary>One statement that inserts <paramref name="log"/> into the new shard's request log; a row already there stays.</summary>
    private static NpgsqlBatchCommand CopyLog(string serviceId, IReadOnlyList<LogRow> log) => new(
        """
        INSERT INTO shards_request_log (grainidhash, requestid, serviceid, graintypestring, grainkey, expires_at, applied_at, outcome)
        SELECT r.hash, r.requestid, @service, r.state, r.key, r.expires_at, r.applied_at, r.outcome
          FROM unnest(@hashes, @states, @keys, @requests, @expires, @applied, @outcomes) AS r(hash, state, key, requestid, expires_at, applied_at, outcome)
        ON CONFLICT ON CONSTRAINT shards_request_log_pk DO NOTHING
        """)
    {
        Parameters =
        {
            new NpgsqlParameter<string>("service", serviceId),
            new NpgsqlParameter<int[]>("hashes", log.Select(r => r.GrainIdHash).ToArray()),
            new NpgsqlParameter<string[]>("states", log.Select(r => r.State).ToArray()),
            new NpgsqlParameter<string[]>("keys", log.Select(r => r.Key).ToArray()),
            new NpgsqlParameter<Guid[]>("requests", log.Select(r => r.RequestId).ToArray()),
            new NpgsqlParameter("expires", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = log.Select(r => r.ExpiresAt).ToArray() },
            new NpgsqlParameter("applied", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = log.Select(r => r.AppliedAt).ToArray() },
            new NpgsqlParameter("outcomes", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = log.Select(r => r.Outcome).ToArray() },
        },
    };

    private sealed record LogRow(string State, string Key, Guid RequestId, DateTime ExpiresAt, DateTime AppliedAt, byte[]? Outcome, int GrainIdHash);

    private sealed record StoredRow(string State, string Key, int GrainIdHash, int GrainTypeHash, byte[]? Payload, int Version, DateTime ModifiedOn);
}
