namespace Shards.LocalCluster;

/// <summary>The processes of this machine with their command lines, read from /proc (Linux only).</summary>
public static class LocalProcesses
{
    /// <summary>Every other process whose command line can be read; empty on other systems.</summary>
    public static IEnumerable<(int Pid, string[] Arguments)> WithCommandLines()
    {
        if (!OperatingSystem.IsLinux())
        {
            yield break;
        }

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

            yield return (pid, arguments);
        }
    }

    /// <summary>
    /// True when the process is stopped by a signal (state <c>T</c> in /proc/PID/stat: SIGSTOP, SIGTSTP); false when it
    /// runs, sleeps, is gone, or this is not Linux.
    /// </summary>
    public static bool IsStopped(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            // "PID (comm) S ...": the command name may hold spaces and parentheses, the state follows the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var end = stat.LastIndexOf(')');
            return end > 0 && end + 2 < stat.Length && stat[end + 2] == 'T';
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The processes whose parent is <paramref name="parentPid"/> (from /proc/PID/stat); empty on other systems.</summary>
    public static IReadOnlyList<int> ChildrenOf(int parentPid)
    {
        var children = new List<int>();
        if (!OperatingSystem.IsLinux())
        {
            return children;
        }

        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                // "PID (comm) S PPID ...": the command name may hold spaces and parentheses, the parent follows the state.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ', 3);
                if (fields.Length >= 2 && int.TryParse(fields[1], out var parent) && parent == parentPid)
                {
                    children.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
            {
                // Gone meanwhile.
            }
        }

        return children;
    }
}
