namespace Shards.Client.Launcher;

/// <summary>Finds the <c>shards cluster up</c> launcher of a cluster on this machine, by its command line.</summary>
public static class LauncherProcesses
{
    /// <summary>SIGUSR2 on Linux: a launcher that receives it restarts its silos one at a time.</summary>
    public const int SigUsr2 = 12;

    public static IReadOnlyList<int> Find(string clusterId)
    {
        if (!OperatingSystem.IsLinux())
        {
            return [];
        }

        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            string[] arguments;
            try
            {
                arguments = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            var program = Array.FindIndex(arguments, a => Path.GetFileName(a) is "shards" or "shards.dll");
            if (program < 0 || program + 2 >= arguments.Length || arguments[program + 1] != "cluster" || arguments[program + 2] != "up")
            {
                continue;
            }

            var clusterIndex = Array.IndexOf(arguments, "--cluster-id");
            var cluster = clusterIndex >= 0 && clusterIndex + 1 < arguments.Length ? arguments[clusterIndex + 1] : "shards";
            if (cluster == clusterId)
            {
                found.Add(pid);
            }
        }

        return found;
    }
}
