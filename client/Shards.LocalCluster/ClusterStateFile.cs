using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shards.LocalCluster;

/// <summary>
/// What a <see cref="ClusterStateFile"/> held when it was read: nothing (no file), a cluster whose launcher runs, or a
/// stale file (its launcher is gone, its pid now belongs to another program, or it cannot be read).
/// </summary>
public sealed record ClusterStateReading(string Path, string ClusterId, ClusterState? State, string? StaleBecause)
{
    /// <summary>The launcher the file names runs: <see cref="State"/> is current.</summary>
    public bool IsRunning => State is not null && StaleBecause is null;

    /// <summary>A file is there, but no launcher of it runs.</summary>
    public bool IsStale => StaleBecause is not null;

    /// <summary>Why no cluster runs, for people: "no .shards/cluster.json" or why the file is stale.</summary>
    public string NotRunningReason => IsStale ? $"{Path} is stale: {StaleBecause}" : $"there is no {Path}";

    /// <summary>One line for people when <see cref="IsRunning"/> is false.</summary>
    public string NotRunningMessage =>
        $"No cluster '{ClusterId}' runs from this folder ({NotRunningReason}); start one with 'shards cluster up'.";
}

/// <summary>
/// The state file of a <c>shards cluster up</c>: <c>.shards/cluster.json</c> (for a cluster ID other than the default
/// <c>shards</c>, <c>.shards/cluster-ID.json</c>, so that clusters of their own can run from one clone side by side).
/// The launcher rewrites it whenever its state changes, atomically (a temporary file renamed over it: a reader sees the
/// old state or the new one, never half of one), and removes it when it stops. A file whose launcher process is gone,
/// or whose pid now belongs to another process (another start time), is stale: no cluster runs.
/// <para>A second launcher of the same cluster is kept out by a lock (<see cref="TryClaim"/>) that the kernel releases
/// when the launcher's process ends, however it ends.</para>
/// </summary>
public sealed class ClusterStateFile
{
    public const string DefaultClusterId = "shards";
    public const string DefaultDirectory = ".shards";
    private const string LauncherMarker = "shards";
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private static long s_writes;
    private readonly Lock _writing = new();

    public ClusterStateFile(string path, string clusterId)
    {
        FullPath = System.IO.Path.GetFullPath(path);
        ClusterId = clusterId;
    }

    /// <summary>The state file of <paramref name="clusterId"/> in <paramref name="directory"/> (default <c>.shards</c> of the current folder).</summary>
    public static ClusterStateFile For(string clusterId, string? directory = null) =>
        new(System.IO.Path.Combine(directory ?? DefaultDirectory, FileName(clusterId)), clusterId);

    /// <summary>
    /// The clusters whose launcher runs from <paramref name="directory"/> (default <c>.shards</c> of the current folder):
    /// every <c>cluster*.json</c> there read as the state file of the cluster it names; stale files are left out.
    /// </summary>
    public static IReadOnlyList<ClusterStateReading> FindRunning(string? directory = null)
    {
        var folder = directory ?? DefaultDirectory;
        if (!System.IO.Directory.Exists(folder))
        {
            return [];
        }

        var running = new List<ClusterStateReading>();
        foreach (var path in System.IO.Directory.EnumerateFiles(folder, "cluster*.json").Order(StringComparer.Ordinal))
        {
            string? clusterId;
            try
            {
                clusterId = JsonSerializer.Deserialize<ClusterState>(File.ReadAllBytes(path), s_json)?.ClusterId;
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException or IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if (clusterId is not null && new ClusterStateFile(path, clusterId).Read() is { IsRunning: true } reading)
            {
                running.Add(reading);
            }
        }

        return running;
    }

    /// <summary><c>cluster.json</c> for the default cluster, <c>cluster-ID.json</c> for another (characters a file name should not hold become '_').</summary>
    public static string FileName(string clusterId) =>
        clusterId == DefaultClusterId
            ? "cluster.json"
            : $"cluster-{string.Concat(clusterId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'))}.json";

    public string FullPath { get; }

    /// <summary>The path as people read it: relative to the current folder when it is inside it (<c>.shards/cluster.json</c>).</summary>
    public string Path
    {
        get
        {
            var relative = System.IO.Path.GetRelativePath(Environment.CurrentDirectory, FullPath);
            return relative.StartsWith("..", StringComparison.Ordinal) ? FullPath : relative;
        }
    }

    public string ClusterId { get; }

    /// <summary>Reads the file and checks that the launcher it names still runs.</summary>
    public ClusterStateReading Read()
    {
        ClusterState? state;
        try
        {
            state = JsonSerializer.Deserialize<ClusterState>(File.ReadAllBytes(FullPath), s_json);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return new ClusterStateReading(Path, ClusterId, null, null);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or IOException or UnauthorizedAccessException)
        {
            return new ClusterStateReading(Path, ClusterId, null, $"it cannot be read ({ex.Message})");
        }

        return new ClusterStateReading(Path, ClusterId, state, state is null ? "it is empty" : StaleBecause(state));
    }

    /// <summary>Null when the launcher <paramref name="state"/> names runs, else why the state is stale.</summary>
    private string? StaleBecause(ClusterState state)
    {
        if (state.ClusterId != ClusterId)
        {
            return $"it describes cluster '{state.ClusterId}'";
        }

        if (LocalProcesses.IsSameProcess(state.LauncherPid, state.LauncherStartTicks, LauncherMarker))
        {
            return null;
        }

        var program = LocalProcesses.CommandLine(state.LauncherPid);
        return LocalProcesses.StartTicks(state.LauncherPid) is null
            ? $"its launcher, pid {state.LauncherPid}, no longer runs"
            : $"its launcher, pid {state.LauncherPid}, is gone; that pid now belongs to another process" +
              (program.Count > 0 ? $" ({System.IO.Path.GetFileName(program[0])})" : string.Empty);
    }

    /// <summary>
    /// Replaces the file with <paramref name="state"/> atomically: written to a temporary file beside it, flushed to
    /// disk, then renamed over it (rename is atomic on one file system).
    /// </summary>
    public void Write(ClusterState state)
    {
        lock (_writing)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(FullPath)!);
            var temporary = $"{FullPath}.{Environment.ProcessId}.{Interlocked.Increment(ref s_writes)}.tmp";
            try
            {
                using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    JsonSerializer.Serialize(stream, state with { UpdatedAt = DateTimeOffset.UtcNow }, s_json);
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temporary, FullPath, overwrite: true);
            }
            catch
            {
                File.Delete(temporary);
                throw;
            }
        }
    }

    /// <summary>Removes the file when it names this process as its launcher (or cannot be read); true when it is gone.</summary>
    public bool DeleteIfOwnedByThisProcess()
    {
        var reading = Read();
        if (reading.State is { } state && state.LauncherPid != Environment.ProcessId)
        {
            return false;
        }

        File.Delete(FullPath);
        return true;
    }

    /// <summary>Removes the file whatever it says (a stale one, under <see cref="TryClaim"/>).</summary>
    public void Delete() => File.Delete(FullPath);

    /// <summary>
    /// Takes the cluster's launcher lock (<c>cluster.json.lock</c> beside the file, an exclusive flock), or returns
    /// null when another process holds it: a launcher of this cluster starts, runs or stops in this folder. Held until
    /// disposed or until the process ends, however it ends; the lock file itself stays (removing it would race).
    /// </summary>
    public IDisposable? TryClaim()
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(FullPath)!);
        try
        {
            return new FileStream(FullPath + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
