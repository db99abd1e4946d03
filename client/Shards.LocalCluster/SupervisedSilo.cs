using System.Diagnostics;
using Shards.LocalCluster.Hosts;

namespace Shards.LocalCluster;

/// <summary>What the launcher knows of one silo process.</summary>
public enum SupervisedSiloState
{
    Starting,
    Running,
    Restarting,
    Stopping,
    Stopped,
    Failed,
}

/// <summary>One silo process under the launcher's care. Its ports stay the same across restarts.</summary>
public sealed class SupervisedSilo
{
    internal SupervisedSilo(string name, int siloPort, int gatewayPort, int httpPort, string logFile, SimulatedHost? host = null)
    {
        Name = name;
        Host = host;
        AdvertisedAddress = host?.Address ?? SiloIdentity.LoopbackAddress;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
        LogFile = logFile;
    }

    public string Name { get; }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    /// <summary>The port of the HTTP API this silo co-hosts (on its <see cref="AdvertisedAddress"/>).</summary>
    public int HttpPort { get; }

    public string HttpUrl => $"http://{AdvertisedAddress}:{HttpPort}";

    /// <summary>The simulated host (network namespace) it runs on with <c>cluster up --hosts</c>; null on the machine's own network.</summary>
    public SimulatedHost? Host { get; }

    public string LogFile { get; }

    public SupervisedSiloState State { get; internal set; } = SupervisedSiloState.Starting;

    /// <summary>Being replaced by a rolling restart: its exit is expected, not a crash.</summary>
    public bool Retiring { get; internal set; }

    /// <summary>How many times the launcher restarted it after it exited on its own.</summary>
    public int Restarts { get; internal set; }

    public DateTimeOffset StartedAt { get; internal set; }

    /// <summary>The address the silo advertises in the membership table (its identity there with its port and generation).</summary>
    public string AdvertisedAddress { get; }

    /// <summary>
    /// The membership row of the current process once it became Active: address, port and generation. Null while the
    /// process starts, and for a process the launcher never saw join.
    /// </summary>
    public SiloIdentity? Joined { get; internal set; }

    internal Process? Process { get; set; }

    /// <summary>The current process's start in clock ticks since boot (/proc/PID/stat), for the state file.</summary>
    internal long? StartTicks { get; set; }

    /// <summary>The current process id, or null when no process runs.</summary>
    public int? Pid
    {
        get
        {
            var process = Process;
            try
            {
                return process is { HasExited: false } ? process.Id : null;
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        }
    }

    public string Endpoint => $"{AdvertisedAddress}:{SiloPort}";
}
