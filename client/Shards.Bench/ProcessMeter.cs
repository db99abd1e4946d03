using System.Globalization;

namespace Shards.Bench;

/// <summary>Memory and CPU time of processes, and the machine's available memory, read from /proc (Linux).</summary>
public static class ProcessMeter
{
    /// <summary>Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>VmRSS of /proc/PID/status in MB; null when the process is gone.</summary>
    public static double? RssMb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                    return kb / 1024.0;
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }

    /// <summary>utime + stime of /proc/PID/stat in milliseconds; 0 when the process is gone.</summary>
    public static double CpuMs(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var utime = long.Parse(fields[11], CultureInfo.InvariantCulture); // field 14
            var stime = long.Parse(fields[12], CultureInfo.InvariantCulture); // field 15
            return (utime + stime) / TicksPerSecond * 1000;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public static double CpuMs(IEnumerable<int> pids) => pids.Sum(CpuMs);

    /// <summary>MemAvailable of /proc/meminfo in MB: what the machine can still give without swapping.</summary>
    public static double AvailableMemoryMb()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
        return long.Parse(line["MemAvailable:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
    }
}
