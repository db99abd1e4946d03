using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Hosting.Sharding;
using Shards.Storage;

namespace Shards.Hosting.Storage;

/// <summary>
/// One shard's grain reads and writes as Shards sends them itself. A write is Orleans' own compare-and-set write
/// (<c>orleans_storage_write</c>, what the <c>WriteToStorageKey</c> query of the shard's <c>OrleansQuery</c> table calls)
/// through <c>shards_storage_write_logged</c>, which also logs the request the change applied (docs/exactly-once.md),
/// bound exactly as Orleans' ADO.NET storage binds it (its hasher, its serializer), preceded by the shard's write-fence
/// check when the writes were routed by a shard map. A read is Orleans' <c>ReadFromStorageKey</c> query and the grain's
/// unexpired request-log rows, in one round trip. One batch is one round trip and one transaction: a refused fence
/// check stores none of it.
/// </summary>
internal sealed class ShardWriteStatements : IAsyncDisposable
{
    /// <summary>The logged write: Orleans' write and the request's log row, atomically (migration 0010).</summary>
    private const string WriteLogged =
        "SELECT shards_storage_write_logged(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, " +
        "@GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary, @RequestId, @ExpiresAt, @Outcome) AS newgrainstateversion";

    /// <summary>The grain's request-log rows that a copy of their request may still repeat.</summary>
    private const string ReadRecentRequests =
        "SELECT requestid, expires_at FROM shards_request_log " +
        "WHERE serviceid = @ServiceId AND graintypestring = @GrainTypeString AND grainkey = @GrainKey AND expires_at > now()";

    /// <summary>One logged request with its outcome.</summary>
    private const string FindRequest =
        "SELECT expires_at, outcome FROM shards_request_log " +
        "WHERE serviceid = @ServiceId AND graintypestring = @GrainTypeString AND grainkey = @GrainKey AND requestid = @RequestId";

    private readonly string _storageName;
    private readonly AdoNetGrainStorage _inner;
    private readonly string _serviceId;

    public ShardWriteStatements(string storageName, AdoNetGrainStorage inner, string serviceId, string connectionString)
    {
        _storageName = storageName;
        _inner = inner;
        _serviceId = serviceId;
        // The same few statement texts every time: prepared once per connection, PostgreSQL skips parsing and planning
        // them for every read and every write of every batch.
        DataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxAutoPrepare = Math.Max(new NpgsqlConnectionStringBuilder(connectionString).MaxAutoPrepare, 8),
            AutoPrepareMinUsages = 2,
        });
    }

    /// <summary>The shard's connections (one pool per shard storage).</summary>
    public NpgsqlDataSource DataSource { get; }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    /// <summary>
    /// Reads the grain's state (and request log) on a connection of its own; a state <see cref="CanRead{T}"/> refuses goes
    /// to Orleans' storage. A shard the fence closed to <paramref name="mapVersion"/> refuses the read with the stale-map
    /// refusal (nothing read), which the caller retries under the current map.
    /// </summary>
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int? mapVersion)
    {
        if (!CanRead<T>(stateName, grainId))
        {
            await _inner.ReadStateAsync(stateName, grainId, grainState);
            return;
        }

        await using var connection = await DataSource.OpenConnectionAsync();
        try
        {
            await ReadAsync(connection, stateName, grainId, grainState, mapVersion);
        }
        catch (PostgresException refused) when (ShardWriteFence.RefusedBelow(refused) is { } accepted)
        {
            throw ShardWriteFence.Refusal(_storageName, stateName, grainId, mapVersion ?? 0, accepted, "read");
        }
    }

    /// <summary>The logged request <paramref name="requestId"/> of the grain's state, on a connection of its own.</summary>
    public async Task<LoggedRequest?> FindAsync(string stateName, GrainId grainId, Guid requestId)
    {
        if (!CanSend(stateName, grainId))
        {
            return null;
        }

        await using var connection = await DataSource.OpenConnectionAsync();
        return await FindAsync(connection, stateName, grainId, requestId);
    }

    /// <summary>One write in its own transaction on a connection of its own; the stored version, or null for a conflict.</summary>
    public async Task<int?> WriteOneAsync(ShardWrite write)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        return await ExecuteOneAsync(connection, write);
    }

    public string StorageName => _storageName;

    /// <summary>
    /// Whether Shards can send this write itself: a key with no integer or GUID part (what every Shards grain has: SKUs,
    /// cart IDs) and a plain state name. Other writes go to Orleans' storage as they are; the resharding coordinator
    /// refuses to move such rows, so they never need the fence.
    /// </summary>
    public static bool CanSend(string stateName, GrainId grainId) =>
        !grainId.TryGetGuidKey(out _, out _) && !grainId.TryGetIntegerKey(out _, out _) && !stateName.Contains('`', StringComparison.Ordinal);

    /// <summary>The write of <paramref name="grainState"/>, serialised now (the grain may change its state right after).</summary>
    public ShardWrite Prepare<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int? mapVersion)
    {
        var (key, grainIdHash, grainTypeHash) = Identify(stateName, grainId, grainState);
        int? expected = string.IsNullOrWhiteSpace(grainState.ETag) ? null : int.Parse(grainState.ETag, CultureInfo.InvariantCulture);
        return new ShardWrite(
            grainId,
            grainIdHash,
            grainTypeHash,
            stateName,
            key,
            expected,
            _inner.Serializer.Serialize(grainState.State).ToArray(),
            mapVersion,
            (grainState.State as IRequestLoggedState)?.Applying);
    }

    /// <summary>
    /// Reads the grain's state and, for a request-logged state, its unexpired request-log rows, on
    /// <paramref name="connection"/> in one round trip (after the shard's fence check when <paramref name="mapVersion"/>
    /// is given: a shard closed to that map refuses the read, nothing is read). Fills <paramref name="grainState"/> as
    /// Orleans' ADO.NET storage does: a missing row or payload gives a new state, the row's version is the ETag.
    /// </summary>
    public async Task ReadAsync<T>(NpgsqlConnection connection, string stateName, GrainId grainId, IGrainState<T> grainState, int? mapVersion)
    {
        var (key, grainIdHash, grainTypeHash) = Identify(stateName, grainId, grainState);
        var logged = typeof(IRequestLoggedState).IsAssignableFrom(typeof(T));
        await using var batch = new NpgsqlBatch(connection);
        if (mapVersion is { } version)
        {
            batch.BatchCommands.Add(ShardWriteFence.Check(_serviceId, version));
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand(_inner.CurrentOperationalQueries.ReadFromStorage)
        {
            Parameters =
            {
                new NpgsqlParameter<int>("GrainIdHash", grainIdHash),
                new NpgsqlParameter<long>("GrainIdN0", 0L),
                new NpgsqlParameter<long>("GrainIdN1", 0L),
                new NpgsqlParameter<int>("GrainTypeHash", grainTypeHash),
                new NpgsqlParameter<string>("GrainTypeString", stateName),
                new NpgsqlParameter<string>("GrainIdExtensionString", key),
                new NpgsqlParameter<string>("ServiceId", _serviceId),
            },
        });
        if (logged)
        {
            batch.BatchCommands.Add(LogCommand(ReadRecentRequests, stateName, key));
        }

        byte[]? payload = null;
        int? storedVersion = null;
        var recent = logged ? new List<LoggedRequest>() : null;
        await using (var reader = await batch.ExecuteReaderAsync())
        {
            if (mapVersion is not null)
            {
                await reader.NextResultAsync();
            }

            if (await reader.ReadAsync())
            {
                var payloadColumn = reader.GetOrdinal("payloadbinary");
                payload = await reader.IsDBNullAsync(payloadColumn) ? null : reader.GetFieldValue<byte[]>(payloadColumn);
                storedVersion = reader.GetInt32(reader.GetOrdinal("version"));
            }

            if (recent is not null)
            {
                await reader.NextResultAsync();
                while (await reader.ReadAsync())
                {
                    recent.Add(new LoggedRequest(reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)));
                }
            }
        }

        var state = payload is null ? Activator.CreateInstance<T>() : _inner.Serializer.Deserialize<T>(new BinaryData(payload));
        if (state is IRequestLoggedState requestLogged)
        {
            requestLogged.Recent = recent;
            requestLogged.Applying = null;
        }

        grainState.State = state;
        grainState.ETag = storedVersion?.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = payload is not null; // a cleared row keeps its version (the ETag) but holds no state
    }

    /// <summary>Whether <see cref="ReadAsync{T}"/> can read this state: Shards' own keys, and a state type it can create empty.</summary>
    public static bool CanRead<T>(string stateName, GrainId grainId) =>
        CanSend(stateName, grainId) && (typeof(T).IsValueType || typeof(T).GetConstructor(Type.EmptyTypes) is not null);

    /// <summary>The logged request <paramref name="requestId"/> of the grain's state, with its outcome; null when not logged.</summary>
    public async Task<LoggedRequest?> FindAsync(NpgsqlConnection connection, string stateName, GrainId grainId, Guid requestId)
    {
        await using var command = new NpgsqlCommand(FindRequest, connection);
        command.Parameters.Add(new NpgsqlParameter<string>("ServiceId", _serviceId));
        command.Parameters.Add(new NpgsqlParameter<string>("GrainTypeString", stateName));
        command.Parameters.Add(new NpgsqlParameter<string>("GrainKey", grainId.Key.ToString()!));
        command.Parameters.Add(new NpgsqlParameter<Guid>("RequestId", requestId));
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }

        return new LoggedRequest(
            requestId, reader.GetFieldValue<DateTimeOffset>(0), await reader.IsDBNullAsync(1) ? null : reader.GetFieldValue<byte[]>(1));
    }

    /// <summary>
    /// Sends <paramref name="batch"/> on <paramref name="connection"/> in one round trip and one transaction; returns each write's stored version, or null
    /// for a version conflict. When a write carries a map version, the transaction starts with the shard's fence check
    /// for the oldest one: a <see cref="PostgresException"/> with <see cref="ShardWriteFence.RefusedState"/> then means
    /// that nothing of the batch was stored.
    /// </summary>
    public async Task<int?[]> ExecuteAsync(NpgsqlConnection connection, IReadOnlyList<ShardWrite> batch)
    {
        await using var command = new NpgsqlBatch(connection);
        var oldest = batch.Min(w => w.MapVersion);
        if (oldest is { } version)
        {
            command.BatchCommands.Add(ShardWriteFence.Check(_serviceId, version));
        }

        // Same order in every batch: two batches touching the same rows (two silos during a duplicate activation)
        // lock them in the same order and cannot deadlock.
        var ordered = Enumerable.Range(0, batch.Count)
            .OrderBy(i => batch[i].GrainIdHash)
            .ThenBy(i => batch[i].Key, StringComparer.Ordinal)
            .ToArray();
        foreach (var i in ordered)
        {
            command.BatchCommands.Add(Statement(batch[i]));
        }

        var versions = new int?[batch.Count];
        await using var reader = await command.ExecuteReaderAsync();
        if (oldest is not null)
        {
            await reader.NextResultAsync();
        }

        foreach (var i in ordered)
        {
            versions[i] = await reader.ReadAsync() && !await reader.IsDBNullAsync(0) ? reader.GetInt32(0) : null;
            await reader.NextResultAsync();
        }

        return versions;
    }

    /// <summary>One write in its own transaction; the fence's refusal becomes the stale-map refusal. Returns the stored version or null.</summary>
    public async Task<int?> ExecuteOneAsync(NpgsqlConnection connection, ShardWrite write)
    {
        try
        {
            return (await ExecuteAsync(connection, [write]))[0];
        }
        catch (PostgresException refused) when (ShardWriteFence.RefusedBelow(refused) is { } accepted)
        {
            throw Refusal(write, accepted);
        }
    }

    /// <summary>Takes the stored version into <paramref name="grainState"/>, or throws the version conflict Orleans' storage would.</summary>
    public void Complete<T>(ShardWrite write, int? stored, IGrainState<T> grainState)
    {
        if (stored is not { } version || version == write.ExpectedVersion)
        {
            throw new InconsistentStateException(
                $"Version conflict (WriteState): ServiceId={_serviceId} ProviderName={_storageName} GrainType={write.StateName} GrainId={write.Key} ETag={grainState.ETag}.");
        }

        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    /// <summary>The stale-map refusal for <paramref name="write"/>, which the shard's fence refused below <paramref name="accepted"/>.</summary>
    public Exception Refusal(ShardWrite write, int accepted) =>
        ShardWriteFence.Refusal(_storageName, write.StateName, write.GrainId, write.MapVersion ?? 0, accepted);

    private NpgsqlBatchCommand Statement(ShardWrite write) => new(WriteLogged)
    {
        Parameters =
        {
            new NpgsqlParameter<int>("GrainIdHash", write.GrainIdHash),
            new NpgsqlParameter<long>("GrainIdN0", 0L),
            new NpgsqlParameter<long>("GrainIdN1", 0L),
            new NpgsqlParameter<int>("GrainTypeHash", write.GrainTypeHash),
            new NpgsqlParameter<string>("GrainTypeString", write.StateName),
            new NpgsqlParameter<string>("GrainIdExtensionString", write.Key),
            new NpgsqlParameter<string>("ServiceId", _serviceId),
            new NpgsqlParameter("GrainStateVersion", NpgsqlDbType.Integer) { Value = write.ExpectedVersion is { } v ? v : DBNull.Value },
            new NpgsqlParameter<byte[]>("PayloadBinary", write.Payload),
            new NpgsqlParameter("RequestId", NpgsqlDbType.Uuid) { Value = write.Request is { } r ? r.Id : DBNull.Value },
            new NpgsqlParameter("ExpiresAt", NpgsqlDbType.TimestampTz) { Value = write.Request is { } e ? e.ExpiresAt.UtcDateTime : DBNull.Value },
            new NpgsqlParameter("Outcome", NpgsqlDbType.Bytea) { Value = (object?)write.Request?.Outcome ?? DBNull.Value },
        },
    };

    private NpgsqlBatchCommand LogCommand(string sql, string stateName, string key) => new(sql)
    {
        Parameters =
        {
            new NpgsqlParameter<string>("ServiceId", _serviceId),
            new NpgsqlParameter<string>("GrainTypeString", stateName),
            new NpgsqlParameter<string>("GrainKey", key),
        },
    };

    /// <summary>The string key and the two hashes Orleans' storage keys the row with (its hasher, the key's bytes reversed).</summary>
    private (string Key, int GrainIdHash, int GrainTypeHash) Identify<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = grainId.Key.ToString()!;
        var hasher = _inner.HashPicker.PickHasher(_serviceId, _storageName, stateName, grainId, grainState)
            ?? throw new InvalidOperationException($"Storage '{_storageName}' has no hasher for {stateName}.");
        var keyBytes = Encoding.UTF8.GetBytes(key);
        Array.Reverse(keyBytes);
        return (key, hasher.Hash(keyBytes), hasher.Hash(Encoding.UTF8.GetBytes(stateName)));
    }
}

/// <summary>
/// One grain write as Shards sends it: Orleans' key columns and payload, the ETag it expects, the shard map version
/// that routed it (null when no map did: then no fence is checked), and the request it applies (logged with it; null
/// when none).
/// </summary>
internal sealed record ShardWrite(
    GrainId GrainId, int GrainIdHash, int GrainTypeHash, string StateName, string Key, int? ExpectedVersion, byte[] Payload, int? MapVersion,
    LoggedRequest? Request = null)
{
    /// <summary>The stored version after the commit, or null on a version conflict (group commit answers through it).</summary>
    public TaskCompletionSource<int?> Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
