using System.Diagnostics;
using Shards.LocalCluster;
using Shards.LocalCluster.Postgres;

namespace Shards.Load;

/// <summary>
/// <c>shards load --chaos pg-stall</c>: SIGSTOPs every process of the private PostgreSQL (the postmaster, from
/// <c>data/postmaster.pid</c>, first, so that it forks no new backend, once that file says it is ready: a PostgreSQL
/// that another nemesis restarts is waited for; then its children: backends, checkpointer, WAL
/// writer ...) for the stall, then SIGCONTs them. Nothing is closed: connections stay open and commits hang, so the
/// writes in flight time out with an unknown outcome, and may still commit when PostgreSQL resumes. Every stopped
/// process is resumed however the run ends (see <see cref="ProcessFreezer"/>).
/// </summary>
public sealed class PostgresStallChaos : IChaos
{
    private static readonly TimeSpan s_watchdogMargin = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_waitForPostmaster = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(100);
    private const int MaxSweeps = 5;
    private readonly string _dataDirectory;
    private readonly TimeSpan _stall;
    private readonly ProcessFreezer _freezer = new();
    private long _stoppedAt;

    private PostgresStallChaos(string dataDirectory, TimeSpan stall)
    {
        _dataDirectory = dataDirectory;
        _stall = stall;
    }

    /// <summary>The nemesis for the private server, or a message a person can act on when it cannot stall it.</summary>
    public static async Task<(PostgresStallChaos? Chaos, string? Problem)> ForAsync(PrivatePostgresServer server, TimeSpan stall, CancellationToken cancellationToken)
    {
        var status = await server.GetStatusAsync(cancellationToken);
        if (!status.Running)
        {
            return (null, $"--chaos pg-stall needs the private PostgreSQL in {server.RootDirectory} running (start it with 'shards cluster up' or 'shards db start').");
        }

        if (!OperatingSystem.IsLinux())
        {
            return (null, "--chaos pg-stall sends SIGSTOP and SIGCONT to PostgreSQL's processes, which this tool does on Linux only.");
        }

        return RunningPostmaster(server.DataDirectory) is not null
            ? (new PostgresStallChaos(server.DataDirectory, stall), null)
            : (null, $"--chaos pg-stall: no running postmaster ready for connections found from {Path.Combine(server.DataDirectory, "postmaster.pid")}.");
    }

    public async Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken)
    {
        // Another nemesis of the run (pg-restart) may have PostgreSQL stopped right now: wait for it to run again.
        var waited = Stopwatch.StartNew();
        int? postmaster;
        while ((postmaster = RunningPostmaster(_dataDirectory)) is null && waited.Elapsed < s_waitForPostmaster)
        {
            await Task.Delay(s_poll, cancellationToken);
        }

        if (postmaster is not { } pid || !_freezer.Stop(pid))
        {
            return new ChaosAction("no pg stall", $"no running postmaster to stop in {_dataDirectory} (waited {waited.Elapsed.TotalSeconds:0.0} s)");
        }

        Volatile.Write(ref _stoppedAt, Stopwatch.GetTimestamp());
        // PostgreSQL writes down only its postmaster's pid: its backends, checkpointer and WAL writer are found as the
        // postmaster's children in /proc (the one process walk left; Shards' own processes are in .shards/cluster.json).
        // A child forked just before the postmaster stopped shows up in a later sweep.
        for (var sweep = 0; sweep < MaxSweeps; sweep++)
        {
            var stopped = _freezer.Stopped;
            var fresh = LocalProcesses.ChildrenOf(pid).Where(child => !stopped.Contains(child)).ToList();
            if (fresh.Count == 0)
            {
                break;
            }

            fresh.ForEach(child => _freezer.Stop(child));
        }

        _freezer.ArmWatchdog(_stall + s_watchdogMargin);
        return new ChaosAction(
            "pg SIGSTOP",
            $"private PostgreSQL: postmaster (pid {pid}) and {_freezer.Stopped.Count - 1} other processes for {LoadDuration.Format(_stall)}" +
            (waited.Elapsed > s_poll ? $" (after waiting {waited.Elapsed.TotalSeconds:0.0} s for it to run)" : string.Empty));
    }

    /// <summary>
    /// The postmaster's pid when it runs and accepts connections (its process exists, and the status line of
    /// <c>postmaster.pid</c>, the 8th, says <c>ready</c>: not while it starts or stops), else null.
    /// </summary>
    internal static int? RunningPostmaster(string dataDirectory)
    {
        try
        {
            var lines = File.ReadAllLines(Path.Combine(dataDirectory, "postmaster.pid"));
            return lines.Length >= 8 && lines[7].Trim() == "ready" && int.TryParse(lines[0].Trim(), out var pid) && pid > 0 && File.Exists($"/proc/{pid}/stat")
                ? pid
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public async Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        var stoppedAt = Volatile.Read(ref _stoppedAt);
        if (stoppedAt == 0)
        {
            return; // never struck
        }

        try
        {
            var left = _stall - Stopwatch.GetElapsedTime(stoppedAt);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended first: resume now.
        }

        var resumed = _freezer.Resume();
        onChange(new ChaosAction("pg SIGCONT", $"{resumed} PostgreSQL processes resumed after {Stopwatch.GetElapsedTime(stoppedAt).TotalSeconds:0.0} s stopped"));
    }

    public Task HealAsync()
    {
        _freezer.Resume();
        return Task.CompletedTask;
    }
}
