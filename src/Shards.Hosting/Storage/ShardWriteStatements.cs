using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Hosting.Sharding;

namespace Shards.Hosting.Storage;

/// <summary>
/// One shard's grain writes as Shards sends them itself: Orleans' own write statement (the <c>WriteToStorageKey</c>
/// query of the shard's <c>OrleansQuery</c> table), bound exactly as Orleans' ADO.NET storage binds it (its hasher,
/// its serializer), preceded by the shard's write-fence check when the writes were routed by a shard map. One batch
/// is one round trip and one transaction: a refused fence check stores none of it.
/// </summary>
internal sealed class ShardWriteStatements(string storageName, AdoNetGrainStorage inner, string serviceId)
{
    public string StorageName => storageName;

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
        var key = grainId.Key.ToString()!;
        var hasher = inner.HashPicker.PickHasher(serviceId, storageName, stateName, grainId, grainState)
            ?? throw new InvalidOperationException($"Storage '{storageName}' has no hasher for {stateName}.");
        var keyBytes = Encoding.UTF8.GetBytes(key);
        Array.Reverse(keyBytes);
        int? expected = string.IsNullOrWhiteSpace(grainState.ETag) ? null : int.Parse(grainState.ETag, CultureInfo.InvariantCulture);
        return new ShardWrite(
            grainId,
            hasher.Hash(keyBytes),
            hasher.Hash(Encoding.UTF8.GetBytes(stateName)),
            stateName,
            key,
            expected,
            inner.Serializer.Serialize(grainState.State).ToArray(),
            mapVersion);
    }

    /// <summary>
    /// Sends <paramref name="batch"/> on <paramref name="connection"/> in one round trip and one transaction; returns each write's stored version, or null
    /// for a version conflict. When a write carries a map version, the transaction starts with the shard's fence check
    /// for the oldest one: a <see cref="PostgresException"/> with <see cref="ShardWriteFence.RefusedState"/> then means
    /// that nothing of the batch was stored.
    /// </summary>
    public async Task<int?[]> ExecuteAsync(NpgsqlConnection connection, IReadOnlyList<ShardWrite> batch)
    {
        var query = inner.CurrentOperationalQueries.WriteToStorage;
        await using var command = new NpgsqlBatch(connection);
        var oldest = batch.Min(w => w.MapVersion);
        if (oldest is { } version)
        {
            command.BatchCommands.Add(ShardWriteFence.Check(serviceId, version));
        }

        // Same order in every batch: two batches touching the same rows (two silos during a duplicate activation)
        // lock them in the same order and cannot deadlock.
        var ordered = Enumerable.Range(0, batch.Count)
            .OrderBy(i => batch[i].GrainIdHash)
            .ThenBy(i => batch[i].Key, StringComparer.Ordinal)
            .ToArray();
        foreach (var i in ordered)
        {
            command.BatchCommands.Add(Statement(query, batch[i]));
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
                $"Version conflict (WriteState): ServiceId={serviceId} ProviderName={storageName} GrainType={write.StateName} GrainId={write.Key} ETag={grainState.ETag}.");
        }

        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    /// <summary>The stale-map refusal for <paramref name="write"/>, which the shard's fence refused below <paramref name="accepted"/>.</summary>
    public Exception Refusal(ShardWrite write, int accepted) =>
        ShardWriteFence.Refusal(storageName, write.StateName, write.GrainId, write.MapVersion ?? 0, accepted);

    private NpgsqlBatchCommand Statement(string query, ShardWrite write) => new(query)
    {
        Parameters =
        {
            new NpgsqlParameter<int>("GrainIdHash", write.GrainIdHash),
            new NpgsqlParameter<long>("GrainIdN0", 0L),
            new NpgsqlParameter<long>("GrainIdN1", 0L),
            new NpgsqlParameter<int>("GrainTypeHash", write.GrainTypeHash),
            new NpgsqlParameter<string>("GrainTypeString", write.StateName),
            new NpgsqlParameter<string>("GrainIdExtensionString", write.Key),
            new NpgsqlParameter<string>("ServiceId", serviceId),
            new NpgsqlParameter("GrainStateVersion", NpgsqlDbType.Integer) { Value = write.ExpectedVersion is { } v ? v : DBNull.Value },
            new NpgsqlParameter<byte[]>("PayloadBinary", write.Payload),
        },
    };
}

/// <summary>
/// One grain write as Shards sends it: Orleans' key columns and payload, the ETag it expects, and the shard map version
/// that routed it (null when no map did: then no fence is checked).
/// </summary>
internal sealed record ShardWrite(
    GrainId GrainId, int GrainIdHash, int GrainTypeHash, string StateName, string Key, int? ExpectedVersion, byte[] Payload, int? MapVersion)
{
    /// <summary>The stored version after the commit, or null on a version conflict (group commit answers through it).</summary>
    public TaskCompletionSource<int?> Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
