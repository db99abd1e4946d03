using System.Net;
using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime;
using Shards.Server.Lease;

namespace Shards.Tests.Lease;

/// <summary>
/// The majority lease's arithmetic: a silo holds it while it reached a strict majority of the active silos (itself
/// included) within the lease, counted from when each successful probe was sent.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class MajorityLeaseTests
{
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(1.5);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void A_silo_alone_in_the_cluster_always_holds_the_lease()
    {
        var lease = Lease(peers: 0, out _);

        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.True(lease.IsHeld);
        Assert.Equal((true, 1, 1), (lease.Status().Held, lease.Status().Reached, lease.Status().Active));
    }

    [Theory]
    [InlineData(2, 0, false)] // 1 of 2 is no majority: a 2-silo survivor refuses until the other is declared dead
    [InlineData(2, 1, true)]
    [InlineData(3, 0, false)]
    [InlineData(3, 1, true)]
    [InlineData(3, 2, true)]
    [InlineData(5, 1, false)] // 2 of 5
    [InlineData(5, 2, true)] // 3 of 5
    [InlineData(5, 4, true)]
    public void The_lease_is_held_when_the_silos_reached_including_itself_are_a_strict_majority(int silos, int reachedPeers, bool held)
    {
        var lease = Lease(peers: silos - 1, out var peers);

        foreach (var peer in peers.Take(reachedPeers))
        {
            lease.RecordProof(peer, _time.GetTimestamp());
        }

        var status = lease.Status();
        Assert.Equal(held, lease.IsHeld);
        Assert.Equal(held, status.Held);
        Assert.Equal(reachedPeers + 1, status.Reached);
        Assert.Equal(silos, status.Active);
        Assert.Equal(peers.Take(reachedPeers).ToHashSet(), status.ReachedPeers.ToHashSet());
    }

    [Fact]
    public void A_proof_counts_for_the_lease_duration_after_its_probe_was_sent_and_no_longer()
    {
        var lease = Lease(peers: 2, out var peers);
        lease.RecordProof(peers[0], _time.GetTimestamp());

        _time.Advance(s_lease - TimeSpan.FromMilliseconds(1));
        Assert.True(lease.IsHeld);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(lease.IsHeld);
        Assert.Equal(1, lease.Status().Reached);
    }

    [Fact]
    public void A_probe_that_completes_late_is_counted_from_when_it_was_sent()
    {
        var lease = Lease(peers: 2, out var peers);
        var sent = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromSeconds(1)); // the answer took a second
        lease.RecordProof(peers[0], sent);

        _time.Advance(TimeSpan.FromSeconds(0.5));

        Assert.False(lease.IsHeld);
    }

    [Fact]
    public void An_older_proof_arriving_after_a_newer_one_does_not_shorten_the_lease()
    {
        var lease = Lease(peers: 2, out var peers);
        var older = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromSeconds(1));
        lease.RecordProof(peers[0], _time.GetTimestamp());
        lease.RecordProof(peers[0], older);

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(lease.IsHeld);
    }

    [Fact]
    public void Peers_leaving_the_active_set_shrink_the_majority_needed()
    {
        var lease = Lease(peers: 2, out var peers);
        Assert.False(lease.IsHeld); // 1 of 3

        lease.SetPeers([lease.Self, peers[0]]); // the other was declared dead
        Assert.False(lease.IsHeld); // 1 of 2

        lease.SetPeers([lease.Self]);
        Assert.True(lease.IsHeld); // alone
    }

    [Fact]
    public void A_peer_that_left_and_came_back_must_be_reached_again()
    {
        var lease = Lease(peers: 2, out var peers);
        lease.RecordProof(peers[0], _time.GetTimestamp());
        Assert.True(lease.IsHeld);

        lease.SetPeers([peers[1]]);
        lease.SetPeers(peers);

        Assert.False(lease.IsHeld);
    }

    [Fact]
    public void A_proof_of_a_silo_outside_the_active_set_counts_for_nothing()
    {
        var lease = Lease(peers: 2, out _);

        lease.RecordProof(Silo(99), _time.GetTimestamp());

        Assert.False(lease.IsHeld);
        Assert.Equal(1, lease.Status().Reached);
    }

    [Fact]
    public void The_silo_itself_in_the_active_set_is_counted_once()
    {
        var lease = Lease(peers: 1, out var peers);

        lease.SetPeers([lease.Self, lease.Self, peers[0]]);

        Assert.Equal(2, lease.Status().Active);
        Assert.Equal([peers[0]], lease.Peers);
    }

    private MajorityLease Lease(int peers, out SiloAddress[] others)
    {
        var lease = new MajorityLease(Silo(0), s_lease, _time);
        others = [.. Enumerable.Range(1, peers).Select(Silo)];
        lease.SetPeers([lease.Self, .. others]);
        return lease;
    }

    internal static SiloAddress Silo(int n) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11000 + n), 1);
}
