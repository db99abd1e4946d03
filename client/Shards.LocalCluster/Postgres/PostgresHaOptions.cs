namespace Shards.LocalCluster.Postgres;

/// <summary>
/// The private high-availability formation of <c>shards db start --ha</c> (section <c>Shards:PostgresHa</c>): a
/// pg_auto_failover monitor, a primary and a synchronous standby, all on 127.0.0.1 under <see cref="Directory"/>.
/// The failure-detection settings are lowered from pg_auto_failover's defaults (5 s health checks, 20 s before a node
/// counts as unhealthy, 30 s for a lost primary to demote itself), which keep writes down for over 30 s after the
/// primary dies; see docs/postgres-ha.md for what each one trades.
/// </summary>
public sealed class PostgresHaOptions
{
    public const string Section = "Shards:PostgresHa";

    /// <summary>Folder holding the monitor's and both nodes' data, their logs and <c>formation.json</c>. Git ignores <c>.shards/</c>.</summary>
    public string Directory { get; set; } = Path.Combine(".shards", "postgres-ha");

    public string Database { get; set; } = "shards";

    /// <summary>Folder with initdb and pg_ctl; empty searches /usr/lib/postgresql/*/bin and PATH.</summary>
    public string? BinDirectory { get; set; }

    /// <summary>Longest wait for a node's creation, a start, a stop, or the formation to reach primary + secondary.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>How often the monitor checks each node (<c>pgautofailover.health_check_period</c>; default 5 s).</summary>
    public TimeSpan HealthCheckPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a node's keeper may go without reporting before the monitor counts it unhealthy, once its health check
    /// failed (<c>pgautofailover.node_considered_unhealthy_timeout</c>; default 20 s).
    /// </summary>
    public TimeSpan NodeConsideredUnhealthyTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long the monitor waits for an unreachable primary to have demoted itself before the standby takes over
    /// (<c>pgautofailover.primary_demote_timeout</c>; default 30 s). Kept equal to <see cref="NetworkPartitionTimeout"/>:
    /// a primary cut off from the monitor and the standby stops taking writes by then.
    /// </summary>
    public TimeSpan PrimaryDemoteTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long a primary's keeper that reaches neither the monitor nor the standby waits before it demotes its node
    /// (the keeper's <c>timeout.network_partition_timeout</c>; default 20 s).
    /// </summary>
    public TimeSpan NetworkPartitionTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long Npgsql trusts what it learned of a host (primary or standby, up or down) before it asks again
    /// (<c>Host Recheck Seconds</c>; default 10 s): after a failover, the new primary is found within this.
    /// </summary>
    public TimeSpan HostRecheck { get; set; } = TimeSpan.FromSeconds(1);
}
