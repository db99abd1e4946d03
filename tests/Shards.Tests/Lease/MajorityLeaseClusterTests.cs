using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.TestingHost;
using Shards.Contracts;
using Shards.Contracts.Benchmarks;
using Shards.Contracts.Common;
using Shards.Contracts.Operations;
using Shards.Placement;
using Shards.Server.Lease;

namespace Shards.Tests.Lease;

/// <summary>
/// The lease's grain call filter in a 3-silo cluster whose silos' probes are switched between "every peer reached" and
/// "no peer reached": Shards' grain calls are refused with SiloCutOff (transient) while no silo holds its lease and
/// served once they hold it again; Orleans' management calls and the operator grain are served throughout.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class MajorityLeaseClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);
    private readonly SwitchedProbe _probe = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<ISiloProbe>(_probe);
            silo.AddConsistentHashPlacement();
            silo.AddMajorityLease(new MajorityLeaseOptions(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(100)));
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact(Timeout = 120_000)]
    public async Task A_silo_without_its_lease_refuses_shards_calls_with_a_transient_silo_cut_off_and_serves_them_again_once_it_holds_it()
    {
        var ping = _cluster.Client.GetGrain<IPingGrain>("lease");
        Assert.Equal(7, await EventuallyAsync(() => ping.PingAsync(7))); // every silo reaches the others

        _probe.Reachable = false;
        var refused = await RefusedAsync(() => ping.PingAsync(8));

        Assert.Equal(ShardsErrorCode.SiloCutOff, refused.Code);
        Assert.True(ShardsFailures.IsTransient(refused));
        Assert.Matches(@"^Silo S\S+ cannot reach a majority of the cluster \(reached 1 of 3 in the last 1 s\); it refuses calls so that it cannot answer from a stale activation\.", refused.Message);

        // Orleans' own calls and the operator grain are not refused: tools and the launcher keep working.
        Assert.Equal(3, (await _cluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count);
        Assert.NotNull(await _cluster.Client.GetGrain<IClusterAdminGrain>(0).AnswerAsync());

        _probe.Reachable = true;
        Assert.Equal(9, await EventuallyAsync(() => ping.PingAsync(9)));
    }

    [Fact(Timeout = 120_000)]
    public async Task Refused_calls_are_counted_and_the_lease_gauge_shows_it_lost()
    {
        long refused = 0;
        var held = new List<long>();
        // This cluster's silos' own meters: other tests' silos in this process publish the same instruments.
        var meters = _cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<IMeterFactory>().Create(ShardsMeter.Name)).ToHashSet();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (meters.Contains(instrument.Meter) && instrument.Name is MajorityLeaseMetrics.Refused or MajorityLeaseMetrics.Held)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == MajorityLeaseMetrics.Refused)
            {
                Interlocked.Add(ref refused, value);
            }
        });
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            lock (held)
            {
                held.Add(value);
            }
        });
        listener.Start();

        _probe.Reachable = false;
        await RefusedAsync(() => _cluster.Client.GetGrain<IPingGrain>("counted").PingAsync(1));
        Assert.True(Interlocked.Read(ref refused) >= 1);

        // Each silo's lease runs out 1 s after its own last proof: the gauges reach 0 one by one.
        var deadline = DateTime.UtcNow + s_wait;
        List<long> last;
        do
        {
            await Task.Delay(100);
            lock (held)
            {
                held.Clear();
            }

            listener.RecordObservableInstruments();
            lock (held)
            {
                last = [.. held];
            }
        }
        while (last.Sum() > 0 && DateTime.UtcNow < deadline);

        Assert.Equal([0, 0, 0], last); // one gauge per silo, none holds its lease
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + s_wait;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (ShardsException ex) when (ex.Code == ShardsErrorCode.SiloCutOff && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private static async Task<ShardsException> RefusedAsync(Func<Task> call)
    {
        var deadline = DateTime.UtcNow + s_wait;
        while (true)
        {
            try
            {
                await call();
            }
            catch (ShardsException ex)
            {
                return ex;
            }

            Assert.True(DateTime.UtcNow < deadline, "no call was refused after the probes stopped reaching any peer");
            await Task.Delay(50);
        }
    }

    private sealed class SwitchedProbe : ISiloProbe
    {
        public volatile bool Reachable = true;

        public Task<bool> ProbeAsync(SiloAddress peer, TimeSpan timeout, CancellationToken cancellationToken) => Task.FromResult(Reachable);
    }
}
