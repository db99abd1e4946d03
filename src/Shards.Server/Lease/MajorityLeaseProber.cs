using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Shards.Server.Lease;

/// <summary>
/// Keeps the <see cref="MajorityLease"/> up to date: every probe period it takes the active silos from this silo's
/// membership view (<see cref="IClusterMembershipService.CurrentSnapshot"/>), probes each other one (timeout: half the
/// lease; a new probe starts every period even while earlier ones of that peer wait, up to timeout/period at once) and records the time each successful probe was sent. A membership
/// change (<see cref="IClusterMembershipService.MembershipUpdates"/>) starts a round at once, so that a peer that just
/// became active, which counts in the majority from then on, is proven reachable within a round trip. It runs on the
/// thread pool, never on the grain scheduler, from just before the silo joins the cluster until it leaves; it logs when
/// the lease is lost and regained.
/// </summary>
internal sealed partial class MajorityLeaseProber(
    MajorityLease lease, IClusterMembershipService membership, ISiloProbe probe, MajorityLeaseOptions options, TimeProvider time,
    ILogger<MajorityLeaseProber> logger)
    : ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<SiloAddress, List<Task>> _inFlight = []; // only the rounds touch it
    private readonly Lock _report = new();
    private Task _loop = Task.CompletedTask;
    private Task _watch = Task.CompletedTask;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _refresh = Task.CompletedTask; // only the rounds touch it
    private bool _held = true; // what was last reported

    /// <summary>
    /// Starts before the silo becomes active (Orleans checks then that it reaches every active silo), so the first round
    /// has started before any grain call can arrive; there is no grace period: a silo serves only on a lease it proved.
    /// </summary>
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(MajorityLeaseProber), ServiceLifecycleStage.BecomeActive - 1, StartAsync, StopAsync);

    /// <summary>
    /// One round: refreshes the active peers, reads the membership table while the lease is lost
    /// (<see cref="ReadMembershipTableAsync"/>), and starts a probe of each peer whose previous probe has ended (a peer that
    /// does not answer never delays the proofs of the others); returns when the probes it started have ended.
    /// </summary>
    /// <summary>
    /// How many probes of one peer may be under way at once: a new one starts every round even while earlier ones wait
    /// (up to their timeout), so one lost packet (a SYN is retransmitted only after 1 s) costs one probe, not the lease;
    /// a peer that does not answer at all has at most this many connections open to it.
    /// </summary>
    private int MaxProbesInFlight => Math.Max(1, (int)Math.Ceiling(options.ProbeTimeout / options.ProbePeriod));

    public Task ProbeRoundAsync(CancellationToken cancellationToken)
    {
        lease.SetPeers(membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress));
        var peers = lease.Peers;
        foreach (var gone in _inFlight.Keys.Where(p => !peers.Contains(p)).ToList())
        {
            _inFlight.Remove(gone);
        }

        if (!lease.IsHeld && _refresh.IsCompleted)
        {
            _refresh = ReadMembershipTableAsync(cancellationToken);
        }

        var started = new List<Task>();
        foreach (var peer in peers)
        {
            if (!_inFlight.TryGetValue(peer, out var running))
            {
                _inFlight[peer] = running = [];
            }

            running.RemoveAll(probe => probe.IsCompleted);
            if (running.Count >= MaxProbesInFlight)
            {
                continue;
            }

            var probing = ProbeAsync(peer, cancellationToken);
            running.Add(probing);
            started.Add(probing);
        }

        return Task.WhenAll(started);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _stop.Dispose();
    }

    private async Task ProbeAsync(SiloAddress peer, CancellationToken cancellationToken)
    {
        var sent = time.GetTimestamp();
        try
        {
            if (await probe.ProbeAsync(peer, options.ProbeTimeout, cancellationToken))
            {
                lease.RecordProof(peer, sent);
            }
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogProbeFailed(logger, peer, exception); // no proof: the lease runs out on its own if probes keep failing
        }
        catch (OperationCanceledException)
        {
            return; // the silo is stopping
        }

        ReportChange();
    }

    /// <summary>
    /// Logs the lease lost or regained, after each probe's outcome (the filter refuses or serves from the lease itself, at
    /// call time). A probe ends within its timeout, so a lease that ran out is reported within about that long; a peer
    /// that just became active is not reported as a loss while its first probe is under way.
    /// </summary>
    private void ReportChange()
    {
        lock (_report)
        {
            var status = lease.Status();
            if (status.Held == _held)
            {
                return;
            }

            _held = status.Held;
            var reached = status.ReachedPeers.Count == 0 ? "none" : string.Join(", ", status.ReachedPeers);
            if (status.Held)
            {
                LogRegained(logger, status.Reached, status.Active, reached);
            }
            else
            {
                LogLost(logger, status.Reached, status.Active, lease.Duration.TotalSeconds, reached);
            }
        }
    }

    private Task StartAsync(CancellationToken cancellationToken)
    {
        LogStarted(logger, lease.Duration.TotalSeconds, options.ProbePeriod.TotalMilliseconds, options.ProbeTimeout.TotalMilliseconds);
        _loop = Task.Factory.StartNew(LoopAsync, CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default).Unwrap();
        _watch = Task.Factory.StartNew(WatchMembershipAsync, CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default).Unwrap();
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        await Task.WhenAll(_loop, _watch);
        await Task.WhenAll(_inFlight.Values.SelectMany(probes => probes)); // probes never throw
        _inFlight.Clear();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                _ = ProbeRoundAsync(_stop.Token); // not awaited: the next round starts on time, even while earlier probes wait
            }
            catch (Exception exception)
            {
                LogRoundFailed(logger, exception); // the lease runs out on its own if rounds keep failing
            }

            // The next round after the probe period, or at once when the membership changed (a peer became active).
            var wake = Volatile.Read(ref _wake);
            await Task.WhenAny(Task.Delay(options.ProbePeriod, time, _stop.Token), wake.Task);
            if (wake.Task.IsCompleted)
            {
                Interlocked.CompareExchange(ref _wake, new(TaskCreationOptions.RunContinuationsAsynchronously), wake);
            }
        }
    }

    /// <summary>
    /// While the lease is lost, reads the membership table once per probe period (one at a time). A silo cut off from
    /// its peers hears no gossip; this read is how it learns, within a probe period, that the majority declared it
    /// dead, and Orleans then stops it, closing its gateway connections, so that clients go to the other silos. Without
    /// it that read came every TableRefreshTimeout (60 s by default). When the table cannot be read (the silo is cut off
    /// from PostgreSQL too) the lease keeps refusing calls.
    /// </summary>
    private async Task ReadMembershipTableAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(lease.Duration);
            await membership.Refresh(default, bounded.Token);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogTableReadFailed(logger, exception.Message);
        }
        catch (OperationCanceledException)
        {
            // the silo is stopping
        }
    }

    private async Task WatchMembershipAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await foreach (var _ in membership.MembershipUpdates.WithCancellation(_stop.Token))
                {
                    Volatile.Read(ref _wake).TrySetResult();
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogRoundFailed(logger, exception); // rounds still run every period
            }

            try
            {
                await Task.Delay(options.ProbePeriod, time, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 1110, Level = LogLevel.Warning,
        Message = "Majority lease lost: reached {Reached} of {Active} active silos in the last {LeaseSeconds} s (peers reached: {Peers}); grain calls are refused until a majority is reached again")]
    private static partial void LogLost(ILogger logger, int reached, int active, double leaseSeconds, string peers);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Information,
        Message = "Majority lease regained: reached {Reached} of {Active} active silos (peers reached: {Peers}); serving grain calls again")]
    private static partial void LogRegained(ILogger logger, int reached, int active, string peers);

    [LoggerMessage(EventId = 1114, Level = LogLevel.Information,
        Message = "Majority lease on: this silo serves grain calls while it reached a majority of the active silos within the last {LeaseSeconds} s (each probed every {PeriodMs} ms, timeout {TimeoutMs} ms)")]
    private static partial void LogStarted(ILogger logger, double leaseSeconds, double periodMs, double timeoutMs);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Warning, Message = "A majority lease probe round failed; probing again next period")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1115, Level = LogLevel.Debug,
        Message = "Without the majority lease, this silo could not read the membership table to learn whether it was declared dead ({Reason}); trying again next period")]
    private static partial void LogTableReadFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 1113, Level = LogLevel.Debug, Message = "The majority lease probe of {Peer} failed; it counts as not reached")]
    private static partial void LogProbeFailed(ILogger logger, SiloAddress peer, Exception exception);
}
