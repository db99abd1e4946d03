namespace Shards.LocalCluster;

/// <summary>
/// What another command must know about a <c>shards cluster up</c> process before it signals it. The launcher itself
/// is found through its state file (<see cref="ClusterStateFile"/>), not by its command line.
/// </summary>
public static class LauncherProcesses
{
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
}
