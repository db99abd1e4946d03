using System.Diagnostics;
using Npgsql;
using Shards.LocalCluster;
using Shards.LocalCluster.Hosts;
using Shards.Postgres;

namespace Shards.Load;

/// <summary>
/// The network nemeses of <c>shards load</c> (<see cref="ChaosModes.Network"/>) on a <c>shards cluster up --hosts N</c>
/// cluster, whose silos each run in a network namespace of their own: nftables rules in those namespaces
/// (<see cref="NetworkFaults"/>) cut, isolate or degrade the network between them for the fault's length, then go
/// (however the run ends). While the fault lasts and until the run ends it reports what the membership protocol did:
/// each Dead declaration (of a silo the fault did not cut off: a false one), when the cut-off silo's process exited
/// (until then it answered any caller that could reach it), and when it was Active again after the heal.
/// </summary>
public sealed class NetworkChaos : IChaos
{
    /// <summary>How often <see cref="ChaosMode.Flap"/> switches between cut and healed.</summary>
    public static readonly TimeSpan FlapPeriod = TimeSpan.FromSeconds(3);

    /// <summary>The share of packets <see cref="ChaosMode.Loss"/> drops.</summary>
    public const int LossPercent = 10;

    /// <summary>How long <see cref="ChaosMode.Latency"/> holds each packet between silos, each way (plus or minus <see cref="LatencyJitter"/>).</summary>
    public static readonly TimeSpan LatencyDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>The uniform spread of <see cref="ChaosMode.Latency"/>'s delay.</summary>
    public static readonly TimeSpan LatencyJitter = TimeSpan.FromMilliseconds(20);

    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(250);
    private readonly ChaosMode _mode;
    private readonly string _clusterId;
    private readonly MembershipTableReader _membership;
    private readonly TimeSpan _length;
    private readonly HashSet<string> _faulted = new(StringComparer.Ordinal);
    private readonly List<LinkDelay> _delays = [];
    private IReadOnlyList<LocalSiloState> _silos = [];
    private HashSet<string> _involved = new(StringComparer.Ordinal);
    private LocalSiloState? _victim;
    private LocalSiloState? _peer;
    private long _struckAt;
    private (long Packets, int Deepest)? _delayed;

    private NetworkChaos(ChaosMode mode, string clusterId, NpgsqlDataSource database, TimeSpan length)
    {
        _mode = mode;
        _clusterId = clusterId;
        _membership = new MembershipTableReader(database);
        _length = length;
    }

    /// <summary>The nemesis, or a message a person can act on when it cannot strike (no simulated hosts, not root, too few silos).</summary>
    public static async Task<(NetworkChaos? Chaos, string? Problem)> ForAsync(
        ChaosMode mode, string clusterId, NpgsqlDataSource database, TimeSpan length, CancellationToken cancellationToken)
    {
        if (!ChaosModes.Network.Contains(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Not a network nemesis.");
        }

        var name = ChaosModes.Name(mode);
        var local = ClusterStateFile.For(clusterId).Read();
        if (local is not { IsRunning: true, State: { } state })
        {
            return (null, $"--chaos {name} acts on the network between the simulated hosts of a 'shards cluster up --hosts N' of cluster '{clusterId}' " +
                $"running from this folder, and none runs ({local.NotRunningReason}): start one with 'sudo shards cluster up --hosts 3'.");
        }

        var hosted = state.Silos.Where(s => s.Namespace is not null).ToList();
        if (hosted.Count == 0)
        {
            return (null, $"--chaos {name} needs simulated hosts: cluster '{clusterId}' runs its silos on this machine's own network. " +
                "Stop it ('shards cluster down') and start it with 'sudo shards cluster up --hosts 3'.");
        }

        if ((mode == ChaosMode.Latency ? LinkDelay.WhyUnavailable() : NetworkFaults.WhyUnavailable()) is { } why)
        {
            return (null, $"--chaos {name} cannot change the network here: {why}");
        }

        var needed = mode is ChaosMode.Partition or ChaosMode.Isolate or ChaosMode.Flap ? 3 : 2;
        if (hosted.Count(s => s.IsRunning()) < needed)
        {
            return (null, $"--chaos {name} needs at least {needed} running silos on simulated hosts (found {hosted.Count(s => s.IsRunning())}), " +
                "so that a majority survives the fault: 'sudo shards cluster up --hosts 3'.");
        }

        var chaos = new NetworkChaos(mode, clusterId, database, length);
        await chaos.HealAsync(); // a fault an earlier run could not remove (killed) does not count against this one
        return (chaos, null);
    }

    public async Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken)
    {
        _silos = ClusterStateFile.For(_clusterId).Read().State?.Silos.Where(s => s.Namespace is not null && s.IsRunning()).ToList() ?? [];
        if (_silos.Count < 2)
        {
            return new ChaosAction($"no {ChaosModes.Name(_mode)}", $"only {_silos.Count} silo(s) of cluster '{_clusterId}' run on simulated hosts");
        }

        _victim = _silos[Random.Shared.Next(_silos.Count)];
        var others = _silos.Where(s => s != _victim).ToList();
        _peer = others[Random.Shared.Next(others.Count)];
        Volatile.Write(ref _struckAt, Stopwatch.GetTimestamp());
        switch (_mode)
        {
            case ChaosMode.Partition or ChaosMode.Flap:
                _involved = [_victim.Name];
                await CutAsync(cancellationToken);
                return new ChaosAction(_mode == ChaosMode.Flap ? "flap: cut" : "partition",
                    $"{Describe(_victim)} cut from {string.Join(", ", others.Select(s => s.Name))} (PostgreSQL and clients still reach it) for {LoadDuration.Format(_length)}" +
                    (_mode == ChaosMode.Flap ? $", healed and cut again every {LoadDuration.Format(FlapPeriod)}" : string.Empty),
                    _victim.Name);
            case ChaosMode.Isolate:
                _involved = [_victim.Name];
                await Fault(_victim, NetworkFaults.IsolateAsync(_victim.Namespace!, cancellationToken));
                return new ChaosAction("isolate", $"{Describe(_victim)} cut from everything (silos, PostgreSQL, clients) for {LoadDuration.Format(_length)}", _victim.Name);
            case ChaosMode.OneWay:
                _involved = [_victim.Name, _peer.Name];
                await Fault(_victim, NetworkFaults.DropOutgoingAsync(_victim.Namespace!, [_peer.Address], cancellationToken));
                return new ChaosAction("one-way", $"{Describe(_victim)} -> {Describe(_peer)} dropped ({_peer.Name} -> {_victim.Name} kept) for {LoadDuration.Format(_length)}");
            case ChaosMode.Latency:
                _involved = [];
                foreach (var silo in _silos)
                {
                    await Fault(silo, DelayAsync(silo, cancellationToken));
                }

                return new ChaosAction("latency", $"every packet between the {_silos.Count} silos' hosts held {LatencyDelay.TotalMilliseconds:0} ms ± " +
                    $"{LatencyJitter.TotalMilliseconds:0} ms each way (userspace delay line) for {LoadDuration.Format(_length)}");
            default:
                _involved = [];
                foreach (var silo in _silos)
                {
                    await Fault(silo, NetworkFaults.LoseOutgoingAsync(silo.Namespace!, [.. _silos.Where(s => s != silo).Select(s => s.Address)], LossPercent, cancellationToken));
                }

                return new ChaosAction("loss", $"{LossPercent} % of the packets between the {_silos.Count} silos' hosts dropped for {LoadDuration.Format(_length)}");
        }
    }

    private async Task DelayAsync(LocalSiloState silo, CancellationToken cancellationToken)
    {
        var line = await LinkDelay.StartAsync(silo.Namespace!, silo.Address, [.. _silos.Where(s => s != silo).Select(s => s.Address)], LatencyDelay, LatencyJitter, cancellationToken);
        lock (_faulted)
        {
            _delays.Add(line);
        }
    }

    private Task CutAsync(CancellationToken cancellationToken) =>
        Fault(_victim!, NetworkFaults.CutAsync(_victim!.Namespace!, [.. _silos.Where(s => s != _victim).Select(s => s.Address)], cancellationToken));

    private async Task Fault(LocalSiloState silo, Task applying)
    {
        lock (_faulted)
        {
            _faulted.Add(silo.Namespace!);
        }

        await applying;
    }

    public async Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        var struckAt = Volatile.Read(ref _struckAt);
        if (struckAt == 0 || _victim is null)
        {
            return; // never struck
        }

        var watch = new MembershipWatch(_silos, _involved, _victim, struckAt);
        using var lease = _involved.Count > 0 ? new LeaseWatch(_victim, struckAt) : null;
        var healedAt = 0L;
        var cut = true;
        var lastFlip = struckAt;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(s_poll, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (healedAt == 0 && Stopwatch.GetElapsedTime(struckAt) >= _length)
            {
                await HealAsync();
                healedAt = Stopwatch.GetTimestamp();
                watch.Healed(healedAt);
                onChange(new ChaosAction("healed", $"{ChaosModes.Name(_mode)} removed after {Stopwatch.GetElapsedTime(struckAt).TotalSeconds:0.0} s"));
            }
            else if (healedAt == 0 && _mode == ChaosMode.Flap && Stopwatch.GetElapsedTime(lastFlip) >= FlapPeriod)
            {
                lastFlip = Stopwatch.GetTimestamp();
                cut = !cut;
                if (cut)
                {
                    await CutAsync(CancellationToken.None);
                }
                else
                {
                    await HealAsync();
                }

                onChange(new ChaosAction(cut ? "flap: cut" : "flap: healed", $"{_victim.Name} at {Stopwatch.GetElapsedTime(struckAt).TotalSeconds:0.0} s into the flap"));
            }

            if (lease is not null && _victim.IsRunning())
            {
                await lease.ReadAsync(onChange, cancellationToken); // the cut-off process only, not the one that replaces it
            }

            try
            {
                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                bounded.CancelAfter(TimeSpan.FromSeconds(2));
                watch.Saw(await _membership.ReadAsync(_clusterId, bounded.Token), onChange);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
            {
                // The table did not answer in time (PostgreSQL cut off from here, or stalled): look again.
            }
        }

        if (healedAt == 0)
        {
            await HealAsync();
            onChange(new ChaosAction("healed", $"{ChaosModes.Name(_mode)} removed at the end of the run, after {Stopwatch.GetElapsedTime(struckAt).TotalSeconds:0.0} s"));
        }

        if (_delayed is { } delayed)
        {
            onChange(new ChaosAction("delay line", $"{delayed.Packets:N0} packets held and sent on, at most {delayed.Deepest:N0} held at once by one host"));
        }

        if (lease is not null)
        {
            onChange(new ChaosAction("lease", $"{_victim.Name} {lease.Summary()}"));
        }

        onChange(watch.Summary());
    }

    /// <summary>Removes the fault from every namespace it touched (and, before the first strike, from every silo's).</summary>
    public async Task HealAsync()
    {
        List<string> namespaces;
        List<LinkDelay> delays;
        lock (_faulted)
        {
            delays = [.. _delays];
            _delays.Clear();
            namespaces = _faulted.Count > 0 || Volatile.Read(ref _struckAt) != 0
                ? [.. _faulted]
                : [.. ClusterStateFile.For(_clusterId).Read().State?.Silos.Select(s => s.Namespace).OfType<string>() ?? []];
            _faulted.Clear();
        }

        foreach (var line in delays)
        {
            await line.DisposeAsync();
        }

        foreach (var ns in namespaces)
        {
            await NetworkFaults.HealAsync(ns);
        }

        if (delays.Count > 0)
        {
            _delayed = (delays.Sum(d => d.Packets), delays.Max(d => d.DeepestQueue));
        }
    }

    private static string Describe(LocalSiloState silo) => $"{silo.Name} ({silo.Address}, {silo.Namespace})";

    /// <summary>What the membership table says while and after the fault: Dead declarations, the cut-off silo's exit and return.</summary>
    private sealed class MembershipWatch(IReadOnlyList<LocalSiloState> silos, IReadOnlySet<string> involved, LocalSiloState victim, long struckAt)
    {
        private readonly HashSet<string> _seenDead = new(StringComparer.Ordinal);
        private readonly HashSet<string> _alive = [.. silos.Select(s => $"{s.Address}:{s.SiloPort}:{s.Generation}")];
        private int _declared;
        private int _false;
        private long _healedAt;
        private double? _victimExitedAfter;
        private double? _victimDeclaredAfter;
        private double? _victimBackAfterHeal;

        public void Healed(long at) => _healedAt = at;

        public void Saw(IReadOnlyList<MembershipRow> rows, Action<ChaosAction> onChange)
        {
            var since = Stopwatch.GetElapsedTime(struckAt).TotalSeconds;
            foreach (var row in rows.Where(r => r.Status == SiloStatusCode.Dead && _alive.Contains($"{r.Address}:{r.Port}:{r.Generation}")))
            {
                if (!_seenDead.Add(row.SiloAddress))
                {
                    continue;
                }

                _declared++;
                var cutOff = involved.Contains(row.SiloName);
                _false += cutOff ? 0 : 1;
                if (row.SiloName == victim.Name)
                {
                    _victimDeclaredAfter ??= since;
                }

                onChange(new ChaosAction(cutOff ? "declared dead" : "FALSE death", $"{row.SiloName} ({row.Endpoint}) {since:0.0} s after the fault began" +
                    (cutOff ? string.Empty : ": the fault did not cut it off")));
            }

            if (_victimExitedAfter is null && !victim.IsRunning())
            {
                _victimExitedAfter = since;
                onChange(new ChaosAction("cut-off silo exited", $"{victim.Name} (pid {victim.Pid}) {since:0.0} s after the fault began " +
                    "(until then it answered callers that still reached it while it held its majority lease, and refused them after)"));
            }

            if (_healedAt != 0 && _victimBackAfterHeal is null && _victimExitedAfter is not null &&
                rows.Any(r => r.SiloName == victim.Name && r.Status == SiloStatusCode.Active && r.Generation != victim.Generation))
            {
                _victimBackAfterHeal = Stopwatch.GetElapsedTime(_healedAt).TotalSeconds;
                onChange(new ChaosAction("cut-off silo back", $"{victim.Name} Active again (a new process) {_victimBackAfterHeal:0.0} s after the heal"));
            }
        }

        public ChaosAction Summary() => new(
            "membership",
            $"{_declared} Dead declaration(s) of silos that ran when the fault began, {_false} of them false (a silo the fault did not cut off)" +
            (involved.Count == 0 ? string.Empty : $"; {victim.Name}: " + (_victimDeclaredAfter is { } declared ? $"declared dead after {declared:0.0} s" : "never declared dead") +
            (_victimExitedAfter is { } exited ? $", its process exited after {exited:0.0} s" : ", its process kept running") +
            (_victimBackAfterHeal is { } back ? $", Active again {back:0.0} s after the heal" : string.Empty)));
    }
}
