namespace Shards.Server.Options;

/// <summary>
/// The Orleans Dashboard a silo may serve on its HTTP server (section <c>Shards:Dashboard</c>), behind the API keys.
/// Off by default: it costs about 80 MB per silo and samples every silo's counters continuously.
/// </summary>
public sealed class ShardsDashboardOptions
{
    public const string Section = "Shards:Dashboard";

    public bool Enabled { get; set; }

    /// <summary>Where the dashboard is served on the silo's HTTP server.</summary>
    public string Path { get; set; } = "/dashboard";

    /// <summary>How often the dashboard samples the silos' counters (at least 1 s).</summary>
    public TimeSpan CounterUpdateInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Stream the silo's log to the dashboard's Log Stream page. Off by default: logs stay in the silo's own log.
    /// </summary>
    public bool LogStream { get; set; }
}
