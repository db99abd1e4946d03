using System.Diagnostics;
using Shards.LocalCluster;

namespace Shards.Load;

/// <summary>
/// SIGSTOPs processes for a nemesis and makes sure every one gets its SIGCONT: from <see cref="Resume"/> (the nemesis'
/// heal, run on every path out of a load run: time up, Ctrl+C, an exception), when this process exits, and, should
/// this process die without running any of that (SIGKILL), from a detached watchdog shell that sends SIGCONT after a
/// deadline. SIGCONT to a process that runs already does nothing, so resuming twice is harmless.
/// </summary>
internal sealed class ProcessFreezer
{
    private readonly List<int> _stopped = [];
    private readonly Lock _lock = new();
    private Process? _watchdog;
    private bool _hooked;

    /// <summary>The processes stopped and not resumed yet.</summary>
    public IReadOnlyList<int> Stopped
    {
        get
        {
            lock (_lock)
            {
                return [.. _stopped];
            }
        }
    }

    /// <summary>SIGSTOPs <paramref name="pid"/>; true when the signal was delivered (it is then resumed later).</summary>
    public bool Stop(int pid)
    {
        lock (_lock)
        {
            if (_stopped.Contains(pid))
            {
                return true;
            }

            // Remembered before the signal: a resume racing with this stop still sends SIGCONT.
            _stopped.Add(pid);
            if (!_hooked)
            {
                AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
                _hooked = true;
            }
        }

        if (PosixSignals.Send(pid, PosixSignals.SigStop))
        {
            return true;
        }

        lock (_lock)
        {
            _stopped.Remove(pid);
        }

        return false;
    }

    /// <summary>
    /// Starts (or restarts) the watchdog: a shell in a session of its own that SIGCONTs every stopped process after
    /// <paramref name="after"/>, even if this process is gone by then. <see cref="Resume"/> ends it.
    /// </summary>
    public void ArmWatchdog(TimeSpan after)
    {
        var pids = Stopped;
        if (pids.Count == 0 || !OperatingSystem.IsLinux())
        {
            return;
        }

        EndWatchdog();
        var script = $"sleep {Math.Ceiling(after.TotalSeconds):0}; kill -CONT {string.Join(' ', pids)} 2>/dev/null";
        var startInfo = new ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (var argument in new[] { "sh", "-c", script })
        {
            startInfo.ArgumentList.Add(argument);
        }

        try
        {
            _watchdog = Process.Start(startInfo);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No setsid: the in-process paths still resume.
        }
    }

    /// <summary>SIGCONTs every stopped process (latest stopped first) and ends the watchdog; how many were still there.</summary>
    public int Resume()
    {
        List<int> pids;
        lock (_lock)
        {
            pids = [.. _stopped];
            _stopped.Clear();
            if (_hooked)
            {
                AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
                _hooked = false;
            }
        }

        pids.Reverse();
        var resumed = pids.Count(pid => PosixSignals.Send(pid, PosixSignals.SigCont));
        EndWatchdog();
        return resumed;
    }

    private void OnProcessExit(object? sender, EventArgs e) => Resume();

    private void EndWatchdog()
    {
        var watchdog = Interlocked.Exchange(ref _watchdog, null);
        if (watchdog is null)
        {
            return;
        }

        try
        {
            if (!watchdog.HasExited)
            {
                watchdog.Kill(entireProcessTree: true);
                watchdog.WaitForExit(1000);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
        finally
        {
            watchdog.Dispose();
        }
    }
}
