namespace Shards.Postgres;

/// <summary>How a host treats its PostgreSQL at start (section <c>Shards:Database</c>).</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Shards:Database";

    /// <summary>Apply Shards' schema (idempotent, under an advisory lock) before the silo joins the cluster.</summary>
    public bool ApplySchemaOnStart { get; set; } = true;

    /// <summary>How long a starting silo waits for PostgreSQL to answer, retrying, before it gives up.</summary>
    public TimeSpan StartupWait { get; set; } = TimeSpan.FromSeconds(60);
}
