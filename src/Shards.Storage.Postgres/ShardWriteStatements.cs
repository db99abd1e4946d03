using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Contracts.Common;
using Shards.Storage;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Storage.Postgres;

/// <summary>
/// One shard's grain reads and writes as Shards sends them itself. A write is Orleans' own compare-and-set write
/// (<c>orleans_storage_write</c>, what the <c>WriteToStorageKey</c> query of the shard's <c>OrleansQuery</c> table calls),
/// with the log row of the request the change applied (docs/exactly-once.md), bound exactly as Orleans' ADO.NET storage
/// binds it (its hasher, its serializer), preceded by the shard's write-fence check when the writes were routed by a
/// shard map; a group commit's writes are one statement. A read is Orleans' <c>ReadFromStorageKey</c> query and the grain's
/// unexpired request-log rows, in one round trip. One batch is one round trip and one transaction: a refused fence
/// check stores none of it. The connections are the shard database's data source (<see cref="Shards.Postgres.PostgresDataSources"/>:
/// one pool per database, shared by every storage name, its statements prepared automatically), each statement bounded by
/// the storage's command timeout.
/// </summary>
internal sealed class ShardWriteStatements
{
    /// <summary>
    /// Every write of a batch in one statement: Orleans' own compare-and-set write (<c>orleans_storage_write</c>, what its
    /// <c>WriteToStorageKey</c> query calls) for each grain, in the order of the grains' hashes and keys (two batches that
    /// touch the same rows, two silos during a duplicate activation, lock them in the same order and cannot deadlock),
    /// and the log row of each write that applies a request, only when that write stored the new version (migration
    /// 0010). Returns each write's index and new version (NULL: version conflict). A request already logged for its
    /// grain fails the statement (unique violation), and with it the transaction: nothing is stored.
    /// </summary>
    private const string WriteBatch =
        """
        WITH w AS MATERIALIZED (
            SELECT r.i, r.hash, r.state, r.key, r.requestid, r.expires_at, r.outcome,
                   orleans_storage_write(r.hash, 0, 0, r.typehash, r.state, r.key, @ServiceId, r.expected, r.payload) AS version
              FROM (SELECT *
                      FROM unnest(@Indexes, @Hashes, @TypeHashes, @States, @Keys, @Expected, @Payloads, @Requests, @Expires, @Outcomes)
                           AS u(i, hash, typehash, state, key, expected, payload, requestid, expires_at, outcome)
                     ORDER BY u.hash, u.key COLLATE "C") AS r),
        l AS (
            INSERT INTO shards_request_log (grainidhash, requestid, serviceid, graintypestring, grainkey, expires_at, outcome)
            SELECT w.hash, w.requestid, @ServiceId, w.state, w.key, w.expires_at, w.outcome
              FROM w
             WHERE w.version IS NOT NULL AND w.requestid IS NOT NULL)
        SELECT w.i, w.version FROM w
        """;

    /// <summary>
    /// A grain's read, in one statement and therefore one snapshot: the shard's write fence (the oldest map version it
    /// accepts; NULL when the database has no shard identity), the state row as Orleans' <c>ReadFromStorageKey</c> reads
    /// it (NULLs when there is none), and, for a request-logged state, the IDs and expiries of its log rows that a copy
    /// may still repeat. A read routed by a map the fence has closed is refused by the caller; one snapshot means that
    /// a read which passes the fence saw the shard before a resharding moved anything, without locking anything.
    /// </summary>
    private const string ReadState =
        """
        SELECT f.min_write_map_version, s.payloadbinary, s.version, lg.ids, lg.expiries
          FROM (SELECT 1) AS one
          LEFT JOIN shards_shard_identity AS f ON f.serviceid = @ServiceId
          LEFT JOIN orleans_storage AS s
                 ON s.grainidhash = @GrainIdHash AND s.graintypehash = @GrainTypeHash AND s.serviceid = @ServiceId
                AND s.graintypestring = @GrainTypeString AND s.grainidn0 = 0 AND s.grainidn1 = 0
                AND s.grainidextensionstring = @GrainIdExtensionString
          LEFT JOIN LATERAL (
                SELECT array_agg(l.requestid) AS ids, array_agg(l.expires_at) AS expiries
                  FROM shards_request_log AS l
                 WHERE @Logged AND l.grainidhash = @GrainIdHash AND l.serviceid = @ServiceId
                   AND l.graintypestring = @GrainTypeString AND l.grainkey = @GrainIdExtensionString
                   AND l.expires_at > now()) AS lg ON true
        """;

    /// <summary>One logged request with its outcome.</summary>
    private const string FindRequest =
        "SELECT expires_at, outcome FROM shards_request_log WHERE grainidhash = @GrainIdHash AND requestid = @RequestId " +
        "AND serviceid = @ServiceId AND graintypestring = @GrainTypeString AND grainkey = @GrainKey";

    /// <summary>The constraint a write violates when it would log a request already logged for the grain.</summary>
    private const string LogKey = "shards_request_log_pk";

    private readonly string _storageName;
    private readonly AdoNetGrainStorage _inner;
    private readonly string _serviceId;
    private readonly int? _commandTimeout;

    /// <param name="dataSource">The shard database's data source (the registry's: the same few statement texts every time,
    /// prepared once per connection, so PostgreSQL skips parsing and planning them for every read and write).</param>
    /// <param name="commandTimeout">The longest wait for each statement (<see cref="ShardsStorageOptions.CommandTimeout"/>);
    /// null: the data source's default.</param>
    public ShardWriteStatements(string storageName, AdoNetGrainStorage inner, string serviceId, NpgsqlDataSource dataSource, TimeSpan? commandTimeout)
    {
        _storageName = storageName;
        _inner = inner;
        _serviceId = serviceId;
        _commandTimeout = commandTimeout is { } timeout ? ShardedStorageSiloBuilderExtensions.CommandTimeoutSeconds(timeout) : null;
        DataSource = dataSource;
    }

    /// <summary>The shard's connections (its database's data source, shared with the silo's other users of that database).</summary>
    public NpgsqlDataSource DataSource { get; }

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
        await ReadAsync(connection, stateName, grainId, grainState, mapVersion);
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
        await using var command = new NpgsqlCommand(ReadState, connection);
        if (_commandTimeout is { } readTimeout)
        {
            command.CommandTimeout = readTimeout;
        }

        command.Parameters.Add(new NpgsqlParameter<int>("GrainIdHash", grainIdHash));
        command.Parameters.Add(new NpgsqlParameter<int>("GrainTypeHash", grainTypeHash));
        command.Parameters.Add(new NpgsqlParameter<string>("GrainTypeString", stateName));
        command.Parameters.Add(new NpgsqlParameter<string>("GrainIdExtensionString", key));
        command.Parameters.Add(new NpgsqlParameter<string>("ServiceId", _serviceId));
        command.Parameters.Add(new NpgsqlParameter<bool>("Logged", logged));

        int? fence = null;
        byte[]? payload = null;
        int? storedVersion = null;
        var recent = logged ? new List<LoggedRequest>() : null;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            await reader.ReadAsync(); // always one row
            fence = await reader.IsDBNullAsync(0) ? null : reader.GetInt32(0);
            payload = await reader.IsDBNullAsync(1) ? null : reader.GetFieldValue<byte[]>(1);
            storedVersion = await reader.IsDBNullAsync(2) ? null : reader.GetInt32(2);
            if (recent is not null && !await reader.IsDBNullAsync(3))
            {
                var ids = reader.GetFieldValue<Guid[]>(3);
                var expiries = reader.GetFieldValue<DateTimeOffset[]>(4);
                for (var i = 0; i < ids.Length; i++)
                {
                    recent.Add(new LoggedRequest(ids[i], expiries[i]));
                }
            }
        }

        if (mapVersion is { } routed)
        {
            if (fence is not { } accepted)
            {
                throw new ShardsException(
                    ShardsErrorCode.StorageUnavailable,
                    $"Storage '{_storageName}': this database is not a shard of service {_serviceId} (it has no shard identity), so the {stateName} state of {grainId} was not read from it.");
            }

            if (routed < accepted)
            {
                throw ShardWriteFence.Refusal(_storageName, stateName, grainId, routed, accepted, "read");
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
        var (_, grainIdHash, _) = Identify(stateName, grainId, new GrainState<object>());
        await using var command = new NpgsqlCommand(FindRequest, connection);
        if (_commandTimeout is { } findTimeout)
        {
            command.CommandTimeout = findTimeout;
        }

        command.Parameters.Add(new NpgsqlParameter<int>("GrainIdHash", grainIdHash));
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
    /// Sends <paramref name="batch"/> on <paramref name="connection"/> in one round trip and one transaction; returns each
    /// write's stored version, or null for a version conflict. When a write carries a map version, the transaction starts
    /// with the shard's fence check for the oldest one: a <see cref="PostgresException"/> with
    /// <see cref="ShardWriteFence.RefusedState"/> then means that nothing of the batch was stored. The writes themselves are
    /// one statement (<see cref="WriteBatch"/>): Orleans' compare-and-set write per grain, in a fixed order, and the log
    /// row of each write that applies a request and stored its new version.
    /// </summary>
    public async Task<int?[]> ExecuteAsync(NpgsqlConnection connection, IReadOnlyList<ShardWrite> batch)
    {
        await using var command = new NpgsqlBatch(connection);
        if (_commandTimeout is { } writeTimeout)
        {
            command.Timeout = writeTimeout;
        }

        var oldest = batch.Min(w => w.MapVersion);
        if (oldest is { } version)
        {
            command.BatchCommands.Add(ShardWriteFence.Check(_serviceId, version));
        }

        command.BatchCommands.Add(Writes(batch));
        var versions = new int?[batch.Count];
        await using var reader = await command.ExecuteReaderAsync();
        if (oldest is not null)
        {
            await reader.NextResultAsync();
        }

        while (await reader.ReadAsync())
        {
            versions[reader.GetInt32(0)] = await reader.IsDBNullAsync(1) ? null : reader.GetInt32(1);
        }

        return versions;
    }

    /// <summary>
    /// One write in its own transaction; the fence's refusal becomes the stale-map refusal, and a request already logged
    /// for the grain a version conflict (null: the grain reloads and finds it). Returns the stored version or null.
    /// </summary>
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
        catch (PostgresException duplicate) when (IsAlreadyLogged(duplicate))
        {
            return null;
        }
    }

    /// <summary>True when <paramref name="exception"/> is a write refused because its request is already logged for the grain.</summary>
    public static bool IsAlreadyLogged(PostgresException exception) =>
        exception is { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: LogKey };

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

    /// <summary>The writes of a batch as one <see cref="WriteBatch"/> statement, one array element per write.</summary>
    private NpgsqlBatchCommand Writes(IReadOnlyList<ShardWrite> batch) => new(WriteBatch)
    {
        Parameters =
        {
            new NpgsqlParameter<string>("ServiceId", _serviceId),
            new NpgsqlParameter<int[]>("Indexes", Enumerable.Range(0, batch.Count).ToArray()),
            new NpgsqlParameter<int[]>("Hashes", batch.Select(w => w.GrainIdHash).ToArray()),
            new NpgsqlParameter<int[]>("TypeHashes", batch.Select(w => w.GrainTypeHash).ToArray()),
            new NpgsqlParameter<string[]>("States", batch.Select(w => w.StateName).ToArray()),
            new NpgsqlParameter<string[]>("Keys", batch.Select(w => w.Key).ToArray()),
            new NpgsqlParameter<int?[]>("Expected", batch.Select(w => w.ExpectedVersion).ToArray()),
            new NpgsqlParameter("Payloads", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = batch.Select(w => w.Payload).ToArray() },
            new NpgsqlParameter<Guid?[]>("Requests", batch.Select(w => w.Request?.Id).ToArray()),
            new NpgsqlParameter<DateTime?[]>("Expires", batch.Select(w => w.Request?.ExpiresAt.UtcDateTime).ToArray()),
            new NpgsqlParameter("Outcomes", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = batch.Select(w => w.Request?.Outcome).ToArray() },
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
