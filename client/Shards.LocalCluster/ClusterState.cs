namespace Shards.LocalCluster;

/// <summary>What the launcher says about itself as a whole.</summary>
public enum LauncherStatus
{
    /// <summary>Starting PostgreSQL or its silos.</summary>
    Starting,

    /// <summary>Every silo started; supervising.</summary>
    Running,

    /// <summary>Stopping its silos (Ctrl+C, SIGTERM, <c>shards cluster down</c>).</summary>
    Stopping,
}

/// <summary>What the launcher says about one of its silos.</summary>
public enum LocalSiloStatus
{
    /// <summary>Its process runs and is joining the cluster.</summary>
    Starting,

    /// <summary>Active in the membership table.</summary>
    Active,

    /// <summary>Its process exited on its own; the launcher starts it again (same name and ports).</summary>
    Restarting,

    /// <summary>Sent SIGTERM; shutting down.</summary>
    Stopping,

    /// <summary>No process runs.</summary>
    Stopped,

    /// <summary>Its process exited before it joined, or did not join in time.</summary>
    Failed,
}

/// <summary>
/// The state of a <c>shards cluster up</c>, as it writes it to <c>.shards/cluster.json</c> whenever it changes (see
/// <see cref="ClusterStateFile"/>): which process the launcher is, which cluster it runs on which database (host, port
/// and database name only: never credentials), and its silos. Other commands (<c>kill</c>, <c>members</c>,
/// <c>cluster down</c> and <c>restart</c>, the load's nemeses) find the processes through it.
/// </summary>
public sealed record ClusterState
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    public required int LauncherPid { get; init; }

    /// <summary>The launcher's start in clock ticks since boot (/proc/PID/stat); tells it from a later process with its pid.</summary>
    public long? LauncherStartTicks { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public required string ClusterId { get; init; }

    public required string ServiceId { get; init; }

    /// <summary>The main database as <c>host:port/database</c> (no user, no password); null until it is known.</summary>
    public string? Database { get; init; }

    public LauncherStatus Status { get; init; }

    public IReadOnlyList<LocalSiloState> Silos { get; init; } = [];

    /// <summary>The state of the launcher that is this process, before it started anything.</summary>
    public static ClusterState StartingHere(string clusterId, string serviceId, string? database = null)
    {
        var pid = Environment.ProcessId;
        return new ClusterState
        {
            LauncherPid = pid,
            LauncherStartTicks = LocalProcesses.StartTicks(pid),
            StartedAt = ProcessStart(),
            UpdatedAt = DateTimeOffset.UtcNow,
            ClusterId = clusterId,
            ServiceId = serviceId,
            Database = database,
            Status = LauncherStatus.Starting,
        };
    }

    internal static DateTimeOffset ProcessStart()
    {
        try
        {
            using var self = System.Diagnostics.Process.GetCurrentProcess();
            return self.StartTime.ToUniversalTime();
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception)
        {
            return DateTimeOffset.UtcNow;
        }
    }
}

/// <summary>One silo of a <see cref="ClusterState"/>. Its ports stay the same across crash restarts.</summary>
public sealed record LocalSiloState
{
    public required string Name { get; init; }

    /// <summary>The current process; null while none runs (restarting, stopped).</summary>
    public int? Pid { get; init; }

    /// <summary>The process's start in clock ticks since boot (/proc/PID/stat); tells it from a later process with its pid.</summary>
    public long? PidStartTicks { get; init; }

    /// <summary>The address the silo advertises in the membership table (127.0.0.1 for a one-host cluster).</summary>
    public string Address { get; init; } = SiloIdentity.LoopbackAddress;

    /// <summary>The network namespace it runs in (<c>cluster up --hosts</c>); null on the machine's own network.</summary>
    public string? Namespace { get; init; }

    public required int SiloPort { get; init; }

    /// <summary>The generation of the current process's membership row, once it joined; with address and port, its row.</summary>
    public int? Generation { get; init; }

    public required int GatewayPort { get; init; }

    public required int HttpPort { get; init; }

    public required string HttpUrl { get; init; }

    public required string LogFile { get; init; }

    public LocalSiloStatus Status { get; init; }

    /// <summary>How many times the launcher started it again after it exited on its own.</summary>
    public int Restarts { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>
    /// True when <see cref="Pid"/> still runs and is this silo's process (same start time; when none was recorded,
    /// a command line naming the silo program), not a later process that got the pid.
    /// </summary>
    public bool IsRunning() => Pid is { } pid && LocalProcesses.IsSameProcess(pid, PidStartTicks, SiloExecutable.AssemblyName);
}
