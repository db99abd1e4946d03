namespace Shards.Storage.Postgres;

/// <summary>
/// Where grain state lives (section <c>Shards:Storage</c>): one or more PostgreSQL databases, each grain in exactly
/// one of them, chosen by the shard map (docs/sharding.md). Environment:
/// <c>Shards__Storage__Shards__0__Name=s0</c>, <c>Shards__Storage__Shards__0__ConnectionString=...</c>. With no shard
/// configured, all state goes to one shard named <c>main</c>: the database of <c>ConnectionStrings:Shards</c>.
/// </summary>
public sealed class ShardsStorageOptions
{
    public const string Section = "Shards:Storage";

    /// <summary>The shard databases. Every shard of the stored shard map must be here, with the same database.</summary>
    public List<ShardOptions> Shards { get; set; } = [];

    /// <summary>How often a silo re-reads the shard map's current version from the main database.</summary>
    public TimeSpan MapRefreshPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a confirmation of the shard map stays good. A silo that could not confirm its map for this long
    /// (the main database is unreachable) refuses writes: a newer map may exist that it cannot see.
    /// </summary>
    public TimeSpan MapLease { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Longest wait for one grain state read or write (Npgsql's command timeout on the shards' connections). A slow
    /// PostgreSQL (a lock held on the storage table, a saturated server) then fails the call with a clear storage error
    /// ("could not be stored ... Nothing changed") instead of holding it; keep it above the slowest healthy write.
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether a silo may reach a shard of the stored map that it has no connection string for, with the main
    /// connection string (its credentials) pointed at the host, port and database the map records; the database must
    /// say it is that shard. Lets <c>shards reshard add</c> add a database to running silos (the local launcher sets it).
    /// Off by default: a silo then refuses a map naming a shard it is not configured for.
    /// </summary>
    public bool ReachUnconfiguredShards { get; set; }

    /// <summary>Rows a resharding moves per batch (one transaction per batch on each side); their writes wait for it.</summary>
    public int ReshardBatchSize { get; set; } = 200;

    /// <summary>Concurrent grain writes to one shard share one transaction (section <c>Shards:Storage:GroupCommit</c>).</summary>
    public GroupCommitOptions GroupCommit { get; set; } = new();
}

/// <summary>One shard database.</summary>
public sealed class ShardOptions
{
    /// <summary>Stable name (1-32 of a-z, 0-9, '_' and '-', starting with a letter), e.g. <c>s0</c>. It places keys on the ring: never rename a shard.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Npgsql connection string of the shard's database. Never logged; shown as host:port/database.</summary>
    public string ConnectionString { get; set; } = string.Empty;
}
