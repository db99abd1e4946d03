using System.Diagnostics;

namespace Shards.LocalCluster;

/// <summary>What <see cref="ClusterShutdown.StopAsync"/> did.</summary>
/// <param name="LauncherPid">The launcher it sent SIGTERM to; null when the launcher was gone already.</param>
/// <param name="LauncherStopped">False when the launcher still ran when the time was up.</param>
/// <param name="Silos">The silos the state file listed last.</param>
/// <param name="Leftovers">Silo processes that outlived their launcher, which it terminated itself.</param>
/// <param name="StillRunning">Silo processes of the file that still run at the end.</param>
public sealed record ClusterShutdownResult(
    int? LauncherPid,
    bool LauncherStopped,
    IReadOnlyList<LocalSiloState> Silos,
    IReadOnlyList<LocalSiloState> Leftovers,
    IReadOnlyList<LocalSiloState> StillRunning,
    TimeSpan Took);

/// <summary>
/// Stops a cluster that a <c>shards cluster up</c> in another terminal runs, through its state file: SIGTERM to the
/// launcher, which stops its silos gracefully and removes the file; then, should silo processes of the file still run
/// with their launcher gone (it was SIGKILLed, or crashed), SIGTERM to them, and SIGKILL to those that outlast the time.
/// </summary>
public static class ClusterShutdown
{
    private const string LauncherMarker = "shards";
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(100);

    /// <summary>The least time left to silos that outlived their launcher before they are SIGKILLed.</summary>
    private static readonly TimeSpan s_leftoverGrace = TimeSpan.FromSeconds(10);

    /// <exception cref="InvalidOperationException">The launcher runs but could not be signalled (another user's process).</exception>
    public static async Task<ClusterShutdownResult> StopAsync(ClusterStateFile file, TimeSpan timeout, Action<string> report, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var reading = file.Read();
        var last = reading.State;
        int? signalled = null;
        if (reading.IsRunning && last is not null && SignalLauncher(last, file.ClusterId))
        {
            var pid = last.LauncherPid;
            signalled = pid;
            report($"Sent SIGTERM to the launcher of cluster '{file.ClusterId}' (pid {pid}); waiting up to {timeout.TotalSeconds:0} s " +
                $"for it to stop its {last.Silos.Count} silo(s) ...");
            while (LocalProcesses.IsSameProcess(pid, last.LauncherStartTicks, LauncherMarker) && watch.Elapsed < timeout)
            {
                await Task.Delay(s_poll, cancellationToken);
                if (file.Read().State is { } now && now.LauncherPid == pid)
                {
                    last = now; // the silos' latest pids, should it die before it stopped them
                }
            }

            if (LocalProcesses.IsSameProcess(pid, last.LauncherStartTicks, LauncherMarker))
            {
                return new ClusterShutdownResult(pid, false, last.Silos, [], [.. last.Silos.Where(s => s.IsRunning())], watch.Elapsed);
            }
        }

        var silos = last?.Silos ?? [];
        var leftovers = silos.Where(s => s.IsRunning()).ToList();
        if (leftovers.Count > 0)
        {
            report($"{leftovers.Count} silo process(es) outlived their launcher: SIGTERM to " +
                string.Join(", ", leftovers.Select(s => $"{s.Name} (pid {s.Pid})")));
            foreach (var silo in leftovers)
            {
                PosixSignals.Send(silo.Pid!.Value, PosixSignals.SigTerm);
            }

            var grace = timeout - watch.Elapsed > s_leftoverGrace ? timeout - watch.Elapsed : s_leftoverGrace;
            var deadline = watch.Elapsed + grace;
            while (leftovers.Any(s => s.IsRunning()) && watch.Elapsed < deadline)
            {
                await Task.Delay(s_poll, cancellationToken);
            }

            foreach (var silo in leftovers.Where(s => s.IsRunning()))
            {
                report($"{silo.Name} (pid {silo.Pid}) did not stop within {grace.TotalSeconds:0} s: SIGKILL");
                PosixSignals.Send(silo.Pid!.Value, PosixSignals.SigKill);
            }

            for (var i = 0; i < 20 && leftovers.Any(s => s.IsRunning()); i++)
            {
                await Task.Delay(s_poll, cancellationToken);
            }
        }

        RemoveIfStale(file);
        return new ClusterShutdownResult(signalled, true, silos, leftovers, [.. silos.Where(s => s.IsRunning())], watch.Elapsed);
    }

    /// <summary>SIGTERM to the launcher; false when it exited meanwhile.</summary>
    private static bool SignalLauncher(ClusterState state, string clusterId)
    {
        if (PosixSignals.Send(state.LauncherPid, PosixSignals.SigTerm))
        {
            return true;
        }

        return LocalProcesses.IsSameProcess(state.LauncherPid, state.LauncherStartTicks, LauncherMarker)
            ? throw new InvalidOperationException($"Could not send SIGTERM to the launcher of cluster '{clusterId}' (pid {state.LauncherPid}): not allowed?")
            : false;
    }

    /// <summary>
    /// Removes the file when no launcher runs for it (a launcher that stops removes its own; one that was killed cannot),
    /// under the launcher lock, so that a <c>cluster up</c> starting right now keeps its fresh file.
    /// </summary>
    public static bool RemoveIfStale(ClusterStateFile file)
    {
        using var claim = file.TryClaim();
        if (claim is null || file.Read() is { IsRunning: true } or { State: null, IsStale: false })
        {
            return false;
        }

        file.Delete();
        return true;
    }
}
