namespace Shards.LocalCluster;

/// <summary>A <c>shards cluster up</c> process running on this machine.</summary>
public sealed record LocalLauncherProcess(int Pid, string ClusterId);

/// <summary>
/// Finds <c>shards cluster up</c> processes on this machine by their command line (the shards program followed by
/// <c>cluster</c> and <c>up</c>), so that other commands can signal the launcher, e.g. SIGUSR2 for a rolling restart.
/// </summary>
public static class LauncherProcesses
{
    private const string DefaultClusterId = "shards";

    public static IReadOnlyList<LocalLauncherProcess> Find(string clusterId) =>
        LocalProcesses.WithCommandLines()
            .Where(p => ClusterOf(p.Arguments) == clusterId)
            .Select(p => new LocalLauncherProcess(p.Pid, clusterId))
            .ToList();

    /// <summary>
    /// True when the process has a handler for <paramref name="signal"/> (its <c>SigCgt</c> mask in /proc): a signal
    /// nobody handles takes its default action, which for SIGUSR2 is to terminate the process.
    /// </summary>
    public static bool Catches(int pid, int signal)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigCgt:", StringComparison.Ordinal));
            return line is not null && CaughtIn(line["SigCgt:".Length..].Trim(), signal);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Whether a hexadecimal signal mask (bit n-1 for signal n) contains <paramref name="signal"/>.</summary>
    internal static bool CaughtIn(string hexMask, int signal) =>
        ulong.TryParse(hexMask, System.Globalization.NumberStyles.HexNumber, null, out var mask) && (mask >> (signal - 1) & 1) == 1;

    /// <summary>
    /// The cluster a command line launches (<c>--cluster-id</c>, else the default), or null when it is not
    /// <c>shards ... cluster up</c> (run as <c>shards</c>, <c>shards.dll</c> through dotnet, or the <c>./shards</c> script).
    /// </summary>
    internal static string? ClusterOf(IReadOnlyList<string> arguments)
    {
        var program = -1;
        for (var i = 0; i < arguments.Count; i++)
        {
            if (Path.GetFileName(arguments[i]) is "shards" or "shards.dll")
            {
                program = i;
                break;
            }
        }

        if (program < 0)
        {
            return null;
        }

        var rest = arguments.Skip(program + 1).ToList();
        var cluster = rest.IndexOf("cluster");
        if (cluster < 0 || !rest.Skip(cluster + 1).Contains("up"))
        {
            return null;
        }

        var option = rest.IndexOf("--cluster-id");
        if (option >= 0 && option + 1 < rest.Count)
        {
            return rest[option + 1];
        }

        return rest.FirstOrDefault(a => a.StartsWith("--cluster-id=", StringComparison.Ordinal))?["--cluster-id=".Length..] ?? DefaultClusterId;
    }
}
