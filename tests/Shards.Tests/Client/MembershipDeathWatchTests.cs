using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using Shards.Client;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Client;

/// <summary>
/// A client resends its calls in flight when the membership table marks a silo it saw alive dead: its sign of a silo it
/// has no connection to. The rows are written by Orleans' own ADO.NET membership table, as silos write them.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class MembershipDeathWatchTests(PostgresDatabaseFixture database) : IClassFixture<PostgresDatabaseFixture>, IDisposable
{
    private static readonly TimeSpan s_hang = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_period = TimeSpan.FromMilliseconds(50);
    private readonly List<IDisposable> _disposables = [];

    [Fact]
    public async Task A_silo_marked_dead_after_the_watch_saw_it_alive_resends_the_calls_in_flight()
    {
        var (table, clusterId) = await TableAsync();
        await InsertAsync(table, Entry(Silo(1)));
        await InsertAsync(table, Entry(Silo(2)));
        var (signal, watch, clock) = await WatchAsync(clusterId);
        var inFlight = signal.Current;

        await UpdateAsync(table, Silo(2), entry => entry.Status = SiloStatus.Dead);
        await clock.PassAsync(s_period); // its next read, done

        Assert.NotEqual(inFlight, signal.Current); // calls sent from now on wait on a new generation
        await WaitCancelledAsync(inFlight);
        Assert.False(signal.Current.IsCancellationRequested);
        await watch.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Other_membership_changes_resend_nothing()
    {
        var (table, clusterId) = await TableAsync();
        await InsertAsync(table, Entry(Silo(1)));
        await InsertAsync(table, Entry(Silo(2), SiloStatus.Dead)); // dead before the watch started: history
        var (signal, watch, clock) = await WatchAsync(clusterId);
        var inFlight = signal.Current;

        await InsertAsync(table, Entry(Silo(3), SiloStatus.Joining)); // a silo joins, becomes active, stops
        await UpdateAsync(table, Silo(3), entry => entry.Status = SiloStatus.Active);
        await InsertAsync(table, Entry(Silo(4), SiloStatus.Dead)); // a row first seen dead
        await clock.PassAsync(s_period); // the watch has read all of that

        Assert.Equal(inFlight, signal.Current); // no trip: the generation a trip replaces is still the current one
        Assert.False(inFlight.IsCancellationRequested);
        await UpdateAsync(table, Silo(3), entry => entry.Status = SiloStatus.Dead); // and the watch still works after them
        await clock.PassAsync(s_period);
        await WaitCancelledAsync(inFlight);
        await watch.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_zero_period_turns_the_watch_off()
    {
        var (table, clusterId) = await TableAsync();
        await InsertAsync(table, Entry(Silo(1)));
        var signal = Signal();
        var clock = new WaitSignallingTimeProvider();
        using var watch = new MembershipDeathWatch(
            TestPostgres.DataSources.For(database.ConnectionString), clusterId, new ShardsClientOptions { DeathWatchPeriod = TimeSpan.Zero }, signal, NullLogger<MembershipDeathWatch>.Instance, clock);
        var inFlight = signal.Current;

        await watch.StartAsync(CancellationToken.None);
        await UpdateAsync(table, Silo(1), entry => entry.Status = SiloStatus.Dead);

        // Off: the watch ended at once, without a read or a wait, so nothing can trip the signal later either.
        Assert.True(watch.ExecuteTask!.IsCompletedSuccessfully, "the watch is still running");
        Assert.False(clock.HasPendingWait);
        Assert.Equal(inFlight, signal.Current);
        Assert.False(inFlight.IsCancellationRequested);
        await watch.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_membership_table_it_cannot_read_neither_ends_the_watch_nor_trips_the_signal()
    {
        var signal = Signal();
        var clock = new WaitSignallingTimeProvider();
        var unreachable = "Host=127.0.0.1;Port=1;Database=shards;Username=postgres;Timeout=1"; // nothing listens on port 1
        using var watch = new MembershipDeathWatch(
            TestPostgres.DataSources.For(unreachable), "deathwatch-unreachable", new ShardsClientOptions { DeathWatchPeriod = s_period }, signal,
            NullLogger<MembershipDeathWatch>.Instance, clock);
        var inFlight = signal.Current;

        await watch.StartAsync(CancellationToken.None);
        var first = await clock.NextWaitAsync(); // a first read failed: it backs off
        var second = await clock.PassAsync(first); // and a second one

        Assert.Equal(TimeSpan.FromSeconds(1), first);
        Assert.Equal(TimeSpan.FromSeconds(1), second);
        Assert.False(watch.ExecuteTask!.IsCompleted, "the watch ended (a fault would stop the client's host)");
        Assert.Equal(inFlight, signal.Current);
        Assert.False(inFlight.IsCancellationRequested);
        await watch.StopAsync(CancellationToken.None).WaitAsync(s_hang);
    }

    /// <summary>A watch on a clock of the test's own, once it has made its first read (what it sees alive) and waits for the next.</summary>
    private async Task<(GatewayLossSignal Signal, MembershipDeathWatch Watch, WaitSignallingTimeProvider Clock)> WatchAsync(string clusterId)
    {
        var signal = Signal();
        var clock = new WaitSignallingTimeProvider();
        var options = new ShardsClientOptions { DeathWatchPeriod = s_period };
        var watch = new MembershipDeathWatch(TestPostgres.DataSources.For(database.ConnectionString), clusterId, options, signal, NullLogger<MembershipDeathWatch>.Instance, clock);
        _disposables.Add(watch);
        await watch.StartAsync(CancellationToken.None);
        Assert.Equal(s_period, await clock.NextWaitAsync()); // its first read is done (a failed one would back off for 1 s)
        return (signal, watch, clock);
    }

    private GatewayLossSignal Signal()
    {
        var signal = new GatewayLossSignal(NullLogger<GatewayLossSignal>.Instance);
        _disposables.Add(signal);
        return signal;
    }

    private static async Task WaitCancelledAsync(CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = token.Register(() => cancelled.TrySetResult());
        await cancelled.Task.WaitAsync(s_hang, CancellationToken.None);
    }

    private async Task<(IMembershipTable Table, string ClusterId)> TableAsync()
    {
        var clusterId = $"deathwatch-{Guid.NewGuid():N}";
        var providers = OrleansAdoNetProviders.ForSilo(database.ConnectionString, clusterId, "shards-deathwatch");
        _disposables.Add(providers);
        var table = providers.MembershipTable();
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true, CancellationToken.None);
        return (table, clusterId);
    }

    private static async Task InsertAsync(IMembershipTable table, MembershipEntry entry)
    {
        var version = (await table.ReadAllAsync(CancellationToken.None)).Version;
        Assert.True(await table.InsertRowAsync(entry, version.Next(), CancellationToken.None), $"insert of {entry.SiloAddress}");
    }

    private static async Task UpdateAsync(IMembershipTable table, SiloAddress silo, Action<MembershipEntry> change)
    {
        var read = await table.ReadAllAsync(CancellationToken.None);
        var (entry, etag) = read.Members.Single(m => m.Item1.SiloAddress.Equals(silo));
        change(entry);
        Assert.True(await table.UpdateRowAsync(entry, etag, read.Version.Next(), CancellationToken.None), $"update of {silo}");
    }

    private static MembershipEntry Entry(SiloAddress silo, SiloStatus status = SiloStatus.Active) => new()
    {
        SiloAddress = silo,
        Status = status,
        ProxyPort = 30000,
        SiloName = $"silo-{silo.Generation}",
        HostName = "deathwatch-host",
        StartTime = DateTime.UtcNow.AddMinutes(-1),
        IAmAliveTime = DateTime.UtcNow,
        SuspectTimes = [],
    };

    private static SiloAddress Silo(int n) => SiloAddress.New(new IPEndPoint(IPAddress.Parse($"10.0.1.{n}"), 11111), 400_000_000 + n);

    public void Dispose()
    {
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }
    }
}
