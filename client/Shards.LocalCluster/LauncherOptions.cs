using Shards.Client;
using Shards.LocalCluster.Hosts;

namespace Shards.LocalCluster;

/// <summary>How <c>shards cluster up</c> starts and supervises silos.</summary>
public sealed class LauncherOptions
{
    /// <summary>Number of silo processes; default one per core, at least 2.</summary>
    public int SiloCount { get; set; } = Math.Max(2, Environment.ProcessorCount);

    public required string ConnectionString { get; set; }

    /// <summary>
    /// Simulated hosts (<c>cluster up --hosts N</c>): silo <c>silo-K</c> runs in the network namespace of
    /// <see cref="HostNetwork.Silo"/>(K) and advertises and listens on its address only. The network must exist before the
    /// launcher starts (the caller builds and removes it). Null: every silo on 127.0.0.1 of this machine.
    /// </summary>
    public HostNetwork? Hosts { get; set; }

    public string ClusterId { get; set; } = "shards";

    private string? _serviceId;

    /// <summary>Grain state, reminders and the shard map are keyed by it; default: the ClusterId (see ShardsClusterOptions).</summary>
    public string ServiceId
    {
        get => string.IsNullOrWhiteSpace(_serviceId) ? ClusterId : _serviceId;
        set => _serviceId = value;
    }

    /// <summary>
    /// Before the first silo starts, delete the cluster's Dead rows left by earlier runs from the membership table (as
    /// <c>shards members prune</c> does): every run adds a row per silo incarnation, and Orleans' own cleanup removes
    /// them only after <c>DefunctSiloExpiration</c> and only while a silo runs.
    /// </summary>
    public bool PruneDeadMembersOnStart { get; set; } = true;

    /// <summary>Restart a silo that exits without being asked to (as a cluster master re-forks a crashed worker).</summary>
    public bool RestartCrashedSilos { get; set; } = true;

    /// <summary>
    /// When a silo process exits on its own, ask a surviving silo to declare it dead at once (the launcher knows
    /// before any probe does), so its grains reactivate elsewhere in well under a second.
    /// </summary>
    public bool DeclareCrashedSilosDead { get; set; } = true;

    /// <summary>
    /// SIGKILL a silo process whose membership row the cluster declared Dead while it still runs (the table is read every
    /// <see cref="DeclaredDeadCheckPeriod"/>). Such a silo was cut off from the others (a network partition) and learns of
    /// its death only at its next full read of the table (Orleans: every 60 s) or from gossip it cannot hear; until then
    /// it answers, from its old activations, any caller that reaches it: stale reads (docs/partitions.md). Its exit then
    /// takes the usual crash path (restarted if restarts are on). Off: leave it to Orleans.
    /// </summary>
    public bool KillSilosDeclaredDead { get; set; }

    /// <summary>How often the launcher reads the membership table for <see cref="KillSilosDeclaredDead"/>.</summary>
    public TimeSpan DeclaredDeadCheckPeriod { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// A silo process stopped (state T in /proc/PID/stat: SIGSTOP) for this long is SIGKILLed, which turns the freeze
    /// into a crash the launcher handles as any other (declared dead at once, restarted if restarts are on). A frozen
    /// process serves nothing, and Orleans' probes would evict it a few seconds later anyway. Null: leave it to the probes.
    /// </summary>
    public TimeSpan? KillFrozenSilosAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The API key the silos' HTTP API accepts. It travels in the silos' environment (<c>Shards__Api__Keys__0</c>),
    /// never on their command line, which any user can read with ps. Null: the silos get no key from the launcher.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// TLS on the Orleans connections of the silos and of the launcher's own client; null: whatever the silos'
    /// environment says (off by default). The certificate password travels in the silos' environment, never on their
    /// command line.
    /// </summary>
    public ShardsTlsOptions? Tls { get; set; }

    /// <summary>
    /// Where the launcher keeps its state (<see cref="ClusterStateFile"/>: its pid, the cluster, each silo's pid, ports,
    /// log and status), rewritten whenever it changes and removed when the launcher stops; <c>shards cluster up</c> sets
    /// <c>.shards/cluster.json</c>. Null: no state file (tests, benchmarks and the demo, whose silos nobody else finds).
    /// </summary>
    public string? StateFile { get; set; }

    /// <summary>Folder for the silos' log files.</summary>
    public string LogDirectory { get; set; } = Path.Combine(".shards", "logs");

    /// <summary>How long a silo may take to become Active in the membership table.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a silo may take to stop after SIGTERM before it is killed.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Extra configuration passed to every silo as <c>--Key=Value</c> arguments (visible in a process list).</summary>
    public IDictionary<string, string> SiloSettings { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Extra environment variables for every silo: for settings that may hold secrets, e.g. shard connection strings.</summary>
    public IDictionary<string, string> SiloEnvironment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
