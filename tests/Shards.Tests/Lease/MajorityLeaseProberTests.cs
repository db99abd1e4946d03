using System.Text.RegularExpressions;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime;
using Shards.Server.Lease;

namespace Shards.Tests.Lease;

/// <summary>
/// The prober: it probes the silos this silo's membership view has as active, records the time each successful probe
/// was sent, never lets a peer that does not answer delay the others, and logs the lease lost and regained.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class MajorityLeaseProberTests
{
    private static readonly MajorityLeaseOptions s_options = new(TimeSpan.FromSeconds(1.5), TimeSpan.FromMilliseconds(250));
    private readonly FakeTimeProvider _time = new();
    private readonly FakeMembership _membership = new();
    private readonly ScriptedProbe _probe = new();
    private readonly RecordingLogger _logger = new();

    [Fact]
    public async Task Only_active_silos_other_than_itself_are_probed()
    {
        var (lease, prober) = Prober();
        _membership.Set((lease.Self, SiloStatus.Active), (Silo(1), SiloStatus.Active), (Silo(2), SiloStatus.Joining), (Silo(3), SiloStatus.Dead));

        await prober.ProbeRoundAsync(CancellationToken.None);

        Assert.Equal([Silo(1)], _probe.Probed);
        Assert.Equal(2, lease.Status().Active);
        Assert.True(lease.IsHeld);
    }

    [Fact]
    public async Task A_peer_that_does_not_answer_does_not_delay_the_proofs_of_the_others()
    {
        var (lease, prober) = Prober();
        _membership.Set((lease.Self, SiloStatus.Active), (Silo(1), SiloStatus.Active), (Silo(2), SiloStatus.Active));
        var hanging = new TaskCompletionSource<bool>();
        _probe.Answer(Silo(2), () => hanging.Task);

        var first = prober.ProbeRoundAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = prober.ProbeRoundAsync(CancellationToken.None); // Silo(2) probed again while its first probe waits
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(lease.IsHeld, "the second round's proof of silo 1 should hold the lease (2 of 3)");
        Assert.Equal(2, _probe.Probed.Count(p => p.Equals(Silo(2))));
        Assert.False(first.IsCompleted);
        hanging.SetResult(false);
        await first;
        await second;
    }

    [Fact]
    public async Task A_peer_gets_a_new_probe_each_round_while_earlier_ones_wait_up_to_timeout_over_period_at_once()
    {
        var (lease, prober) = Prober(); // timeout 1.5 s (the lease), period 0.25 s: 6 at once
        _membership.Set((lease.Self, SiloStatus.Active), (Silo(1), SiloStatus.Active));
        var hanging = new TaskCompletionSource<bool>();
        _probe.Answer(Silo(1), () => hanging.Task);

        var rounds = Enumerable.Range(0, 8).Select(_ => prober.ProbeRoundAsync(CancellationToken.None)).ToList();

        Assert.Equal(6, _probe.Probed.Count(p => p.Equals(Silo(1))));
        hanging.SetResult(true);
        await Task.WhenAll(rounds);
        await prober.ProbeRoundAsync(CancellationToken.None);
        Assert.Equal(7, _probe.Probed.Count(p => p.Equals(Silo(1))));
    }

    [Fact]
    public async Task The_proof_is_the_time_the_probe_was_sent()
    {
        var (lease, prober) = Prober();
        _membership.Set((lease.Self, SiloStatus.Active), (Silo(1), SiloStatus.Active), (Silo(2), SiloStatus.Active));
        _probe.Answer(Silo(1), () =>
        {
            _time.Advance(TimeSpan.FromSeconds(0.7)); // a slow answer
            return Task.FromResult(true);
        });
        _probe.Answer(Silo(2), () => Task.FromResult(false));

        await prober.ProbeRoundAsync(CancellationToken.None);
        Assert.True(lease.IsHeld);
        _time.Advance(TimeSpan.FromSeconds(0.8)); // 1.5 s after the probe was sent, 0.8 s after it answered

        Assert.False(lease.IsHeld);
    }

    [Fact]
    public async Task Losing_and_regaining_the_lease_is_logged_once_each_with_the_peers_reached()
    {
        var (lease, prober) = Prober();
        _membership.Set((lease.Self, SiloStatus.Active), (Silo(1), SiloStatus.Active), (Silo(2), SiloStatus.Active));
        _probe.Reachable = false;

        await prober.ProbeRoundAsync(CancellationToken.None);
        await prober.ProbeRoundAsync(CancellationToken.None);
        _probe.Reachable = true;
        await prober.ProbeRoundAsync(CancellationToken.None);
        await prober.ProbeRoundAsync(CancellationToken.None);

        Assert.Equal([1110, 1111], _logger.Entries.Select(e => e.EventId));
        var lost = _logger.Entries[0].Message;
        var regained = _logger.Entries[1].Message;
        Assert.Contains("reached 1 of 3", lost, StringComparison.Ordinal);
        Assert.Contains("peers reached: none", lost, StringComparison.Ordinal);
        Assert.Matches("reached [23] of 3", regained); // reported as soon as one peer answers, whichever answers first
        Assert.Matches($"peers reached: .*({Regex.Escape(Silo(1).ToString())}|{Regex.Escape(Silo(2).ToString())})", regained);
    }

    [Fact]
    public async Task Without_the_lease_each_round_reads_the_membership_table_so_a_silo_declared_dead_learns_it_and_with_it_none_does()
    {
        var (lease, prober) = Prober();
        _membership.Set((lease.Self, SiloStatus.Active), (Silo(1), SiloStatus.Active), (Silo(2), SiloStatus.Active));
        _probe.Reachable = true;
        await prober.ProbeRoundAsync(CancellationToken.None); // the first round, before any proof, may read it once
        Assert.True(lease.IsHeld);
        var before = _membership.Refreshes;
        await prober.ProbeRoundAsync(CancellationToken.None);
        await prober.ProbeRoundAsync(CancellationToken.None);
        Assert.Equal(before, _membership.Refreshes);

        _probe.Reachable = false;
        _time.Advance(TimeSpan.FromSeconds(2)); // the proofs ran out: the lease is lost
        await prober.ProbeRoundAsync(CancellationToken.None);
        await prober.ProbeRoundAsync(CancellationToken.None);

        Assert.False(lease.IsHeld);
        Assert.Equal(before + 2, _membership.Refreshes);
    }

    [Fact]
    public async Task A_peer_that_just_became_active_and_answers_its_first_probe_logs_no_lost_lease()
    {
        var (lease, prober) = Prober();
        _membership.Set((lease.Self, SiloStatus.Active));
        await prober.ProbeRoundAsync(CancellationToken.None);
        _membership.Set((lease.Self, SiloStatus.Active), (Silo(1), SiloStatus.Active)); // 1 of 2 until it is probed
        _probe.Answer(Silo(1), async () =>
        {
            await Task.Yield();
            return true;
        });

        await prober.ProbeRoundAsync(CancellationToken.None);
        await prober.ProbeRoundAsync(CancellationToken.None);

        Assert.True(lease.IsHeld);
        Assert.Empty(_logger.Entries);
    }

    private (MajorityLease Lease, MajorityLeaseProber Prober) Prober()
    {
        var lease = new MajorityLease(Silo(0), s_options.Lease, _time);
        return (lease, new MajorityLeaseProber(lease, _membership, _probe, s_options, _time, _logger));
    }

    private static SiloAddress Silo(int n) => MajorityLeaseTests.Silo(n);

    private sealed class FakeMembership : IClusterMembershipService
    {
        private long _version;

        public ClusterMembershipSnapshot CurrentSnapshot { get; private set; } =
            new(ImmutableDictionary<SiloAddress, ClusterMember>.Empty, MembershipVersion.MinValue);

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => throw new NotSupportedException();

        public void Set(params (SiloAddress Silo, SiloStatus Status)[] members) =>
            CurrentSnapshot = new(
                members.ToImmutableDictionary(m => m.Silo, m => new ClusterMember(m.Silo, m.Status, m.Silo.ToString())),
                new MembershipVersion(++_version));

        public int Refreshes { get; private set; }

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default)
        {
            Refreshes++;
            return ValueTask.CompletedTask;
        }

        public Task<bool> TryKill(SiloAddress siloAddress) => throw new NotSupportedException();
    }

    private sealed class RecordingLogger : ILogger<MajorityLeaseProber>
    {
        public List<(int EventId, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Entries.Add((eventId.Id, formatter(state, exception)));
            }
        }
    }

    private sealed class ScriptedProbe : ISiloProbe
    {
        private readonly Dictionary<SiloAddress, Func<Task<bool>>> _answers = [];

        public List<SiloAddress> Probed { get; } = [];

        public bool Reachable { get; set; } = true;

        public void Answer(SiloAddress peer, Func<Task<bool>> answer) => _answers[peer] = answer;

        public Task<bool> ProbeAsync(SiloAddress peer, TimeSpan timeout, CancellationToken cancellationToken)
        {
            lock (Probed)
            {
                Probed.Add(peer);
            }

            return _answers.TryGetValue(peer, out var answer) ? answer() : Task.FromResult(Reachable);
        }
    }
}
