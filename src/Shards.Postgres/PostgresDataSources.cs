using System.Collections.Concurrent;
using Npgsql;

namespace Shards.Postgres;

/// <summary>
/// The PostgreSQL connection pools of one owner (a silo's or client's container, one CLI command run): one
/// <see cref="NpgsqlDataSource"/> per database target, created on first use and disposed with the registry. Every part
/// of Shards that talks to a database asks here (or is handed what it returns), so no component holds two pools for
/// one database, and the pools close when their owner stops.
/// </summary>
/// <remarks>
/// <para>
/// <b>The key</b> is the connection string in a canonical form (<see cref="KeyOf"/>): Npgsql's spelling of each
/// keyword, keywords sorted, settings equal to Npgsql's defaults left out, so <c>host=db;Port=5432;Database=x</c> and
/// <c>Database=x;Host=db</c> share a data source. Its settings are part of the key: a data source is built from the key
/// itself, never from whichever caller came first, so the pool size, connect timeout and default command timeout of a
/// database are always those of its connection string as configured (<c>ConnectionStrings:Shards</c>,
/// <c>Shards:Storage:Shards:N:ConnectionString</c>). Shards' code therefore asks with the configured connection string and
/// never varies settings per caller: a caller that must give up sooner sets the command's own timeout (the grain
/// storage its <c>Shards:Storage:CommandTimeout</c>, the client's death watch 5 s), and callers that held small private
/// pools before (the request-log pruner, the death watch) share the database's pool, one connection at a time.
/// </para>
/// <para>
/// Every data source prepares its statements automatically, after 2 uses, as the grain storage's own pools (one per
/// storage name and shard, 8 statements each) always did: the same few statement texts run on every connection, and
/// PostgreSQL skips parsing and planning them. One pool now carries every statement Shards sends to its database (grain
/// reads and writes, the shard map, the request log's pruning, the payment ledger, idempotency records), so each
/// connection keeps up to 20 prepared (<c>Max Auto Prepare</c>, or more if the connection string asks): the grain
/// storage's hot statements are never pushed out by the others. A connection string with <c>Pooling=false</c> gets an
/// unpooled data source (a probe).
/// </para>
/// <para>
/// Orleans' own ADO.NET providers (clustering, reminders, and the per-shard grain storage that clears state) open their
/// connections through Npgsql's provider factory with the connection strings they are configured with, and keep
/// Npgsql's pools for them; this registry is for Shards' own statements.
/// </para>
/// </remarks>
public sealed class PostgresDataSources : IAsyncDisposable, IDisposable
{
    /// <summary>The fewest statements each connection keeps prepared (Npgsql's <c>Max Auto Prepare</c>).</summary>
    internal const int MinAutoPrepare = 20;

    /// <summary>Uses of a statement text on a connection before it is prepared (Npgsql's <c>Auto Prepare Min Usages</c>).</summary>
    internal const int AutoPrepareMinUsages = 2;

    private static readonly ConcurrentDictionary<PostgresDataSources, byte> s_live = new();
    private readonly ConcurrentDictionary<string, Lazy<NpgsqlDataSource>> _sources = new(StringComparer.Ordinal);
    private int _disposed;

    public PostgresDataSources() => s_live.TryAdd(this, 0);

    /// <summary>The data sources created so far (one per distinct <see cref="KeyOf">key</see>).</summary>
    public int Count => _sources.Values.Count(source => source.IsValueCreated);

    /// <summary>
    /// The data source of the database <paramref name="connectionString"/> names: the same instance for every caller
    /// with the same <see cref="KeyOf">key</see>, created on first use. Throws <see cref="ArgumentException"/> for a
    /// connection string Npgsql cannot parse, <see cref="ObjectDisposedException"/> once the registry is disposed.
    /// </summary>
    public NpgsqlDataSource For(string connectionString)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        var source = _sources.GetOrAdd(KeyOf(connectionString), key => new Lazy<NpgsqlDataSource>(() => Build(key))).Value;
        if (Volatile.Read(ref _disposed) == 1)
        {
            // Disposed while this one was being made: it would never be disposed otherwise.
            source.Dispose();
            throw new ObjectDisposedException(nameof(PostgresDataSources));
        }

        return source;
    }

    /// <summary>Closes the idle connections of every data source (after the server restarted, they are dead).</summary>
    public void Clear()
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            return;
        }

        foreach (var source in _sources.Values.Where(s => s.IsValueCreated))
        {
            source.Value.Clear();
        }
    }

    /// <summary>
    /// Closes this process's idle connections: those of Npgsql's own pools (<see cref="NpgsqlConnection.ClearAllPools"/>)
    /// and of every registry not disposed yet. For a process that restarted its PostgreSQL on the same port: the
    /// connections pooled before were ended by the old server and would each fail once.
    /// </summary>
    public static void ClearAllPools()
    {
        NpgsqlConnection.ClearAllPools();
        foreach (var registry in s_live.Keys)
        {
            registry.Clear();
        }
    }

    /// <summary>
    /// The registry's key for <paramref name="connectionString"/>: the connection string with Npgsql's spelling of each
    /// keyword, sorted, without the settings that equal Npgsql's defaults. It holds the password: never log it.
    /// </summary>
    internal static string KeyOf(string connectionString)
    {
        var given = new NpgsqlConnectionStringBuilder(connectionString);
        var defaults = new NpgsqlConnectionStringBuilder();
        var canonical = new NpgsqlConnectionStringBuilder();
        foreach (var keyword in given.Keys.Cast<string>().Order(StringComparer.OrdinalIgnoreCase))
        {
            var value = given[keyword];
            if (!Equals(value, defaults[keyword]))
            {
                canonical[keyword] = value;
            }
        }

        return canonical.ConnectionString;
    }

    public void Dispose()
    {
        foreach (var source in Close())
        {
            source.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var source in Close())
        {
            await source.DisposeAsync();
        }
    }

    private List<NpgsqlDataSource> Close()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return [];
        }

        s_live.TryRemove(this, out _);
        return _sources.Values.Where(s => s.IsValueCreated).Select(s => s.Value).ToList();
    }

    private static NpgsqlDataSource Build(string key)
    {
        var settings = new NpgsqlConnectionStringBuilder(key);
        settings.MaxAutoPrepare = Math.Max(settings.MaxAutoPrepare, MinAutoPrepare);
        settings.AutoPrepareMinUsages = AutoPrepareMinUsages;
        return NpgsqlDataSource.Create(settings);
    }
}
