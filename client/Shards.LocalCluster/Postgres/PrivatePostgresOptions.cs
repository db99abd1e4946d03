namespace Shards.LocalCluster.Postgres;

/// <summary>
/// The throw-away PostgreSQL that Shards starts from the machine's binaries (section <c>Shards:Postgres</c>).
/// Used by the demo, <c>shards db start</c> and the tests; production points <c>ConnectionStrings:Shards</c>
/// at its own server instead.
/// </summary>
public sealed class PrivatePostgresOptions
{
    public const string Section = "Shards:Postgres";

    /// <summary>Folder holding the cluster (<c>data/</c>), its log and <c>instance.json</c>. Git ignores <c>.shards/</c>.</summary>
    public string Directory { get; set; } = Path.Combine(".shards", "postgres");

    /// <summary>Loopback port; 0 picks a free one at start.</summary>
    public int Port { get; set; }

    public string Database { get; set; } = "shards";

    /// <summary>Folder with initdb and pg_ctl; empty searches /usr/lib/postgresql/*/bin and PATH.</summary>
    public string? BinDirectory { get; set; }

    /// <summary>Longest wait for initdb / start / stop.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
