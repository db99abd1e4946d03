namespace Shards.LocalCluster;

/// <summary>
/// One process of this machine looked up by its pid in /proc (Linux only): whether it still runs, which process it
/// is (its start time), its command line, whether it is stopped. Nothing here lists every process: the launcher's
/// state file (<see cref="ClusterStateFile"/>) says which pids belong to a cluster.
/// </summary>
public static class LocalProcesses
{
    /// <summary>
    /// When the process started, in clock ticks since boot (field 22 of /proc/PID/stat). With the pid it names one
    /// process: a pid the kernel hands to another program later has another start time. Null when the process is gone,
    /// is a zombie (exited, not yet reaped), or this is not Linux.
    /// </summary>
    public static long? StartTicks(int pid)
    {
        if (!OperatingSystem.IsLinux() || pid <= 0)
        {
            return null;
        }

        try
        {
            // "PID (comm) S PPID ... starttime ...": the command name may hold spaces and parentheses; the fields after
            // the last ')' are numbered from 3 (the state).
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 && fields[0] is not ("Z" or "X") && long.TryParse(fields[19], out var ticks) ? ticks : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>
    /// True when <paramref name="pid"/> runs and is the process that was recorded: its start time is
    /// <paramref name="startTicks"/>, or, when none was recorded, its command line contains <paramref name="marker"/>.
    /// </summary>
    public static bool IsSameProcess(int pid, long? startTicks, string marker)
    {
        if (!OperatingSystem.IsLinux())
        {
            return IsAliveElsewhere(pid);
        }

        var current = StartTicks(pid);
        if (current is null)
        {
            return false;
        }

        return startTicks is { } recorded
            ? current == recorded
            : CommandLine(pid).Any(argument => argument.Contains(marker, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Without /proc, only whether some process has the pid.</summary>
    private static bool IsAliveElsewhere(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The command line of one process (empty when it is gone, unreadable, or this is not Linux).</summary>
    public static IReadOnlyList<string> CommandLine(int pid)
    {
        if (!OperatingSystem.IsLinux() || pid <= 0)
        {
            return [];
        }

        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
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

    /// <summary>
    /// The processes whose parent is <paramref name="parentPid"/> (from /proc/PID/stat); empty on other systems.
    /// This one does walk every process in /proc, and must: PostgreSQL's backends, checkpointer and WAL writer are
    /// forked by its postmaster, and only the postmaster writes its pid down (<c>postmaster.pid</c>), so the
    /// <c>pg-stall</c> nemesis finds the others as its children. Shards' own processes are found through
    /// <see cref="ClusterStateFile"/>, never this way.
    /// </summary>
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
