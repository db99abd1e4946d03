namespace Shards.Client.Launcher;

/// <summary>The processes of this machine with their command lines, read from /proc (Linux only).</summary>
internal static class LocalProcesses
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
}
