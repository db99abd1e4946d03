using Npgsql;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Contracts;
using Shards.Contracts.Common;
using Shards.Postgres;

namespace Shards.Storage.Postgres.Sharding;

/// <summary>
/// <see cref="IStoredStateQuery"/> over the shard databases of the silo's current shard map (migration 0012 gives each
/// the indexes it reads by). Each shard answers a page in the listing's order; the pages are merged, and a key found in
/// more than one shard (while a resharding moves it, or left behind by a crash between a move's two commits) is taken
/// from the shard the map routes its reads to, exactly as the grain would load it: the old shard while it holds the
/// row, else the new one; a copy anywhere else is ignored. Like a grain read, it refuses while the silo's map is not
/// current and confirmed (<see cref="ShardMapMonitor"/>), and a database failure is Shards' transient error, never a
/// driver exception on the wire.
/// </summary>
public sealed class ShardedStateQuery(ShardMapMonitor map, PostgresDataSources dataSources, IGrainStorageSerializer serializer, TimeSpan commandTimeout)
    : IStoredStateQuery
{
    /// <summary>Rounds of shard pages one call reads at most before answering a short page with a cursor.</summary>
    private const int MaxRounds = 8;

    public Task<IReadOnlyList<StoredState<T>>> ByKeyAsync<T>(
        string stateName, string grainType, string? after, int limit, CancellationToken cancellationToken) =>
        TranslatedAsync(stateName, () => PageAsync<T>(
            stateName, grainType, Order.ByKey, after is null ? null : new Row(after, default, []), limit, where: null, cancellationToken));

    public Task<IReadOnlyList<StoredState<T>>> LatestAsync<T>(
        string stateName, string grainType, int limit, Func<T, bool>? where, CancellationToken cancellationToken) =>
        TranslatedAsync(stateName, () => PageAsync(stateName, grainType, Order.LatestOf(stateName), after: null, limit, where, cancellationToken));

    private async Task<IReadOnlyList<StoredState<T>>> PageAsync<T>(
        string stateName, string grainType, Order order, Row? after, int limit, Func<T, bool>? where, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var shards = Shards(stateName);
        var result = new List<StoredState<T>>(limit);
        for (var round = 0; round < MaxRounds && result.Count < limit; round++)
        {
            var pages = await Task.WhenAll(shards.Select(s => ReadAsync(s, stateName, order, after, limit, cancellationToken)));

            // A shard that filled its page may hold more rows before the others' last ones: only rows up to the
            // earliest such page end are known to be complete.
            var bound = pages.Where(p => p.Rows.Count == limit).Select(p => p.Rows[^1]).MinBy(r => r, order.Comparer);
            var merged = pages
                .SelectMany(p => p.Rows.Select(row => (p.Shard, Row: row)))
                .Where(x => bound is null || order.Comparer.Compare(x.Row, bound) <= 0)
                .GroupBy(x => x.Row.Key, StringComparer.Ordinal)
                .Select(g => Owned(g, grainType))
                .OfType<Row>()
                .Order(order.Comparer);
            foreach (var row in merged)
            {
                var state = serializer.Deserialize<T>(new BinaryData(row.Payload)) ?? throw new InvalidDataException($"The {stateName} state of {row.Key} deserialised to nothing.");
                if (where is null || where(state))
                {
                    result.Add(new StoredState<T>(row.Key, state, row.WrittenAt));
                    if (result.Count == limit)
                    {
                        return result;
                    }
                }
            }

            if (bound is null)
            {
                break; // every shard answered all it has
            }

            after = bound;
        }

        return result;
    }

    /// <summary>The copy of a key the grain itself would read: in the shard its reads are routed to, else where it is moving.</summary>
    private Row? Owned(IGrouping<string, (string Shard, Row Row)> copies, string grainType)
    {
        var route = map.RouteRead(GrainId.Create(grainType, copies.Key));
        return Copy(route.Shard) ?? (route.MovingTo is { } target ? Copy(target) : null);

        Row? Copy(string shard) => copies.FirstOrDefault(c => c.Shard == shard).Row;
    }

    private IReadOnlyList<ShardConnection> Shards(string stateName)
    {
        var current = map.Map ?? throw new ShardsException(
            ShardsErrorCode.StorageUnavailable, $"Cannot list {stateName} states: the shard map is not loaded yet (the silo is starting). Retry later.");
        return current.Document.AllShards
            .Select(location => map.ConnectionFor(location.Name) ?? throw new ShardsException(
                ShardsErrorCode.StorageUnavailable,
                $"Cannot list {stateName} states: this silo has no connection to shard '{location.Name}' of shard map version {current.Version}. Retry on another silo or later."))
            .ToList();
    }

    private async Task<ShardPage> ReadAsync(ShardConnection shard, string stateName, Order order, Row? after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.For(shard.ConnectionString).OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(after is null ? order.FirstPage : order.NextPage, connection)
        {
            CommandTimeout = ShardedStorageSiloBuilderExtensions.CommandTimeoutSeconds(commandTimeout),
        };
        command.Parameters.AddWithValue("service", map.ServiceId);
        command.Parameters.AddWithValue("state", stateName);
        command.Parameters.AddWithValue("limit", limit);
        if (after is not null)
        {
            command.Parameters.AddWithValue("after_key", after.Key);
            command.Parameters.AddWithValue("after_written", after.WrittenAt);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<Row>(limit);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new Row(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetFieldValue<byte[]>(2)));
        }

        return new ShardPage(shard.Name, rows);
    }

    private static async Task<IReadOnlyList<StoredState<T>>> TranslatedAsync<T>(string stateName, Func<Task<IReadOnlyList<StoredState<T>>>> query)
    {
        try
        {
            return await query();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException and not ObjectDisposedException)
        {
            throw new ShardsException(
                ShardsErrorCode.StorageUnavailable,
                $"Could not list {stateName} states: a shard database did not answer ({ex.GetType().Name}: {ex.Message}). Nothing changed; retry later.");
        }
    }

    private sealed record Row(string Key, DateTimeOffset WrittenAt, byte[] Payload);

    private sealed record ShardPage(string Shard, IReadOnlyList<Row> Rows);

    /// <summary>A listing order: how a shard reads a page in it, and how the silo merges pages in it.</summary>
    private sealed record Order(string FirstPage, string NextPage, IComparer<Row> Comparer)
    {
        private const string Select =
            """
            SELECT grainidextensionstring, modifiedon, payloadbinary
              FROM orleans_storage
             WHERE serviceid = @service AND graintypestring = @state AND grainidn0 = 0 AND grainidn1 = 0
               AND payloadbinary IS NOT NULL
            """;

        /// <summary>Ascending byte order of the key (ordinal for Shards' ASCII keys).</summary>
        public static readonly Order ByKey = new(
            $"{Select} ORDER BY grainidextensionstring COLLATE \"C\" LIMIT @limit",
            $"{Select} AND grainidextensionstring COLLATE \"C\" > @after_key ORDER BY grainidextensionstring COLLATE \"C\" LIMIT @limit",
            Comparer<Row>.Create((a, b) => string.CompareOrdinal(a.Key, b.Key)));

        /// <summary>
        /// Newest write first; among writes of the same instant, the greater key first. Orders by
        /// <c>order_written_at</c> (their <c>modifiedon</c>, indexed: migration 0012; the literal state name lets the
        /// planner use that partial index in a prepared statement's generic plan too), any other state by
        /// <c>modifiedon</c>, which no index holds, so that their writes stay HOT: a scan of that state's rows.
        /// </summary>
        public static Order LatestOf(string stateName) => stateName == StateNames.Order ? LatestOrders : Latest;

        private static readonly Order Latest = NewestFirst(Select, "modifiedon");

        private static readonly Order LatestOrders = NewestFirst($"{Select} AND graintypestring = '{StateNames.Order}'", "order_written_at");

        private static Order NewestFirst(string select, string writtenAt) => new(
            $"{select} ORDER BY {writtenAt} DESC, grainidextensionstring COLLATE \"C\" DESC LIMIT @limit",
            $"{select} AND ({writtenAt}, grainidextensionstring COLLATE \"C\") < (@after_written, @after_key) " +
            $"ORDER BY {writtenAt} DESC, grainidextensionstring COLLATE \"C\" DESC LIMIT @limit",
            Comparer<Row>.Create((a, b) => b.WrittenAt.CompareTo(a.WrittenAt) is var c and not 0 ? c : string.CompareOrdinal(b.Key, a.Key)));
    }
}
