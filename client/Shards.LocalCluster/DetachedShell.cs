using System.Diagnostics;

namespace Shards.LocalCluster;

/// <summary>
/// A bash script started in a session of its own, with no tie to this process: a watchdog that cleans up after a
/// test host or bench that may be SIGKILLed (and so runs no finally block).
/// </summary>
public static class DetachedShell
{
    /// <summary>Starts <paramref name="script"/> under <c>setsid bash -c</c>; throws with <paramref name="what"/> when it cannot.</summary>
    public static void Start(string script, string what)
    {
        var startInfo = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "bash", "-c", script })
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var watchdog = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {what}.");
    }

    /// <summary>
    /// Runs <paramref name="cleanup"/> once process <paramref name="ownerPid"/> is gone, but only if
    /// <paramref name="directory"/> still holds the token file written here. An owner that cleans up itself deletes the
    /// folder and its token with it, so the watchdog then leaves alone a new folder at the same path (the next bench
    /// run's, started within the watchdog's second of polling).
    /// </summary>
    /// <returns>The token file: an owner that cleans up without deleting the folder deletes it to disarm the watchdog.</returns>
    public static string StartWatchdog(int ownerPid, string directory, string cleanup, string what)
    {
        // The folder may not exist yet (a watchdog armed before its server's first start): made here, as its owner would.
        var token = Path.Combine(Directory.CreateDirectory(directory).FullName, $".watchdog-{Guid.NewGuid():N}");
        File.WriteAllText(token, $"{ownerPid}\n");
        Start($"while kill -0 {ownerPid} 2>/dev/null; do sleep 1; done; [ -e {Quote(token)} ] || exit 0; {cleanup}", what);
        return token;
    }

    /// <summary><paramref name="text"/> as one single-quoted shell word.</summary>
    public static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
