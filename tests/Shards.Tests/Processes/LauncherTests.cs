using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shards.Client;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.LocalCluster;
using Shards.Postgres;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Processes;

/// <summary>
/// Real silo processes under the launcher: fast death declaration, rolling restart under load, client reconnect.
/// Time bounds only catch hangs; the figures themselves come from `shards load` and the demo.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
[Collection(Shards.Tests.Infrastructure.HeavyProcessesCollection.Name)]
public sealed class LauncherTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>
    /// A frozen silo (SIGSTOP) never exits, so only probes could find it out; the launcher sees the process state
    /// (T in /proc/PID/stat), SIGKILLs it after <see cref="LauncherOptions.KillFrozenSilosAfter"/>, and declares it dead.
    /// </summary>
    [Fact(Timeout = 180_000)]
    public async Task The_launcher_kills_a_frozen_silo_and_declares_it_dead()
    {
        await using var run = await ClusterRun.StartAsync("frozen", silos: 3, restart: false);
        var victim = run.Launcher.Silos[1];
        var pid = victim.Pid!.Value;
        var frozenAt = DateTime.UtcNow;

        Assert.True(PosixSignals.Send(pid, PosixSignals.SigStop));
        var seenStopped = false;
        for (var i = 0; i < 50 && !(seenStopped = LocalProcesses.IsStopped(pid)); i++)
        {
            await Task.Delay(20); // the kernel stops the process's threads asynchronously
        }

        Assert.True(seenStopped || run.Reports.Any(r => r.Contains("SIGSTOP", StringComparison.Ordinal)), "the process never showed as stopped");
        await run.WaitForStatusAsync(victim.SiloPort, SiloStatusCode.Dead, TimeSpan.FromSeconds(30));

        output.WriteLine($"Dead after {(DateTime.UtcNow - frozenAt).TotalSeconds:0.00} s");
        var exited = $"{victim.Name} exited with code 137";
        for (var i = 0; i < 100 && !run.Reports.Any(r => r.Contains(exited, StringComparison.Ordinal)); i++)
        {
            await Task.Delay(100);
        }

        foreach (var report in run.Reports)
        {
            output.WriteLine(report);
        }

        Assert.Contains(run.Reports, r => r.Contains("SIGSTOP", StringComparison.Ordinal) && r.Contains(victim.Name, StringComparison.Ordinal));
        Assert.Contains(run.Reports, r => r.Contains(exited, StringComparison.Ordinal));
    }

    [Fact(Timeout = 180_000)]
    public async Task The_launcher_declares_a_crashed_silo_dead_without_waiting_for_probes()
    {
        await using var run = await ClusterRun.StartAsync("declare", silos: 3, restart: false);
        var victim = run.Launcher.Silos[1];
        var killedAt = DateTime.UtcNow;

        Assert.True(run.Launcher.Kill(victim));
        var row = await run.WaitForStatusAsync(victim.SiloPort, SiloStatusCode.Dead, TimeSpan.FromSeconds(30));

        output.WriteLine($"Dead after {(DateTime.UtcNow - killedAt).TotalSeconds:0.00} s");
        for (var i = 0; i < 100 && !run.Reports.Any(r => r.Contains("declared dead", StringComparison.Ordinal)); i++)
        {
            await Task.Delay(100);
        }

        foreach (var report in run.Reports)
        {
            output.WriteLine(report);
        }

        Assert.Equal(SiloStatusCode.Dead, row?.Status); // within WaitForStatusAsync's bound, which only catches a hang
        Assert.Contains(run.Reports, r => r.Contains($"{victim.Name} declared dead by the launcher", StringComparison.Ordinal));
    }

    /// <summary>
    /// A call whose request reached a silo that is then SIGKILLed never gets an answer: with a 20 s response timeout it
    /// would wait 20 s. The client sees its gateway connection to the killed silo drop and resends every call in flight
    /// at once, under the same request ID; the resent writes land once the launcher has had the silo declared dead.
    /// </summary>
    [Fact(Timeout = 240_000)]
    public async Task Calls_in_flight_to_a_killed_silo_are_resent_at_once_rather_than_after_the_response_timeout()
    {
        var responseTimeout = TimeSpan.FromSeconds(20);
        await using var run = await ClusterRun.StartAsync("inflight", silos: 3, restart: false);
        // With a long response timeout, an attempt after a resend is also given up after 1 s (ResendAttemptTimeout): a
        // survivor can hold a message in placement right after a death for its whole time to live.
        var grains = await run.ConnectAsync(new ShardsClientOptions
        {
            ResponseTimeout = responseTimeout,
            ResendAttemptTimeout = TimeSpan.FromSeconds(1),
            RetryBudget = TimeSpan.FromSeconds(60),
        });
        await grains.GetGrain<IProductGrain>("sku-inflight").UpsertAsync(new ProductDefinition("In flight", 1m, 10));
        var homes = new Dictionary<string, string>();
        foreach (var cartId in Enumerable.Range(0, 60).Select(i => $"cart-inflight-{i}"))
        {
            homes[cartId] = (await grains.GetGrain<ICartGrain>(cartId).WhereAsync()).SiloName;
        }

        var victim = run.Launcher.Silos.MaxBy(s => homes.Values.Count(home => home == s.Name))!;
        var victimCarts = homes.Where(h => h.Value == victim.Name).Select(h => h.Key).ToList();
        var workers = victimCarts.SelectMany(cartId => new[] { cartId, cartId }).ToList();
        var acknowledged = new ConcurrentDictionary<string, int>();
        var spanningTheKill = new ConcurrentBag<TimeSpan>();
        var failures = new ConcurrentBag<Exception>();
        var answered = new WorkerProgress(workers.Count);
        var killedAtTicks = long.MaxValue;
        using var stopLoad = new CancellationTokenSource();

        var load = Task.WhenAll(workers.Select((cartId, worker) => Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                var started = DateTime.UtcNow;
                try
                {
                    await grains.GetGrain<ICartGrain>(cartId).AddAsync("sku-inflight", 1);
                    acknowledged.AddOrUpdate(cartId, 1, (_, n) => n + 1);
                }
                catch (Exception ex)
                {
                    failures.Add(ex);
                }

                var ended = DateTime.UtcNow;
                var killedAt = Volatile.Read(ref killedAtTicks);
                if (started.Ticks < killedAt && ended.Ticks > killedAt)
                {
                    spanningTheKill.Add(ended - started);
                }

                answered.Completed(worker, started.Ticks);
            }
        })));

        await answered.EveryWorkerCompletedOneStartedAfterAsync(DateTime.UtcNow.Ticks); // the load runs on every cart
        var kill = DateTime.UtcNow.Ticks;
        Volatile.Write(ref killedAtTicks, kill);
        Assert.True(run.Launcher.Kill(victim), "SIGKILL was not delivered");
        // Each worker's call in flight at the kill has ended once it has completed a call started after the kill.
        await answered.EveryWorkerCompletedOneStartedAfterAsync(kill);
        await stopLoad.CancelAsync();
        await load.WaitAsync(TimeSpan.FromSeconds(90));

        output.WriteLine($"{victimCarts.Count} carts on {victim.Name}; {spanningTheKill.Count} calls in flight at the kill, slowest {spanningTheKill.DefaultIfEmpty().Max().TotalSeconds:0.00} s");
        Assert.Empty(failures);
        Assert.NotEmpty(spanningTheKill);
        // A call that waited for its answer would end by the response timeout, never before it: one resent at once ends sooner.
        Assert.True(spanningTheKill.Max() < responseTimeout, $"A call in flight at the kill waited {spanningTheKill.Max().TotalSeconds:0.0} s: it was not resent before the response timeout.");
        foreach (var (cartId, count) in acknowledged)
        {
            var line = Assert.Single((await grains.GetGrain<ICartGrain>(cartId).GetAsync()).Lines);
            Assert.Equal(count, line.Quantity);
        }
    }

    [Fact(Timeout = 240_000)]
    public async Task A_rolling_restart_under_load_fails_no_call_and_loses_or_duplicates_no_write()
    {
        await using var run = await ClusterRun.StartAsync("rolling", silos: 2, restart: true);
        var grains = await run.ConnectAsync();
        await grains.GetGrain<IProductGrain>("sku-roll").UpsertAsync(new ProductDefinition("Roll", 1m, 10));
        var acknowledged = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentBag<Exception>();
        using var stopLoad = new CancellationTokenSource();

        var answered = new WorkerProgress(8);
        var load = Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var cartId = $"cart-roll-{worker}";
            while (!stopLoad.IsCancellationRequested)
            {
                var started = DateTime.UtcNow.Ticks;
                try
                {
                    await grains.GetGrain<ICartGrain>(cartId).AddAsync("sku-roll", 1);
                    acknowledged.AddOrUpdate(cartId, 1, (_, n) => n + 1);
                    await grains.GetGrain<ICartGrain>(cartId).GetAsync();
                }
                catch (Exception ex)
                {
                    failures.Add(ex);
                }

                answered.Completed(worker, started);
            }
        })));

        var before = run.Launcher.Silos.Select(s => s.SiloPort).ToList();
        await run.Launcher.RollingRestartAsync(CancellationToken.None);
        await answered.EveryWorkerCompletedOneStartedAfterAsync(DateTime.UtcNow.Ticks); // the new silos serve every worker
        await stopLoad.CancelAsync();
        await load;

        Assert.Empty(failures);
        Assert.All(run.Launcher.Silos, s => Assert.DoesNotContain(s.SiloPort, before));
        Assert.NotEmpty(acknowledged);
        foreach (var (cartId, count) in acknowledged)
        {
            var line = Assert.Single((await grains.GetGrain<ICartGrain>(cartId).GetAsync()).Lines);
            Assert.Equal(count, line.Quantity);
        }
    }

    [Fact(Timeout = 240_000)]
    public async Task A_client_reconnects_after_every_silo_of_the_cluster_was_replaced()
    {
        await using var first = await ClusterRun.StartAsync("reconnect", silos: 2, restart: false);
        var grains = await first.ConnectAsync();
        await grains.GetGrain<IProductGrain>("sku-reconnect").UpsertAsync(new ProductDefinition("Lamp", 4m, 9));

        await first.Launcher.StopAsync();
        await using var second = await ClusterRun.StartAsync("reconnect", silos: 2, restart: false, connectionString: first.ConnectionString);

        var product = await grains.GetGrain<IProductGrain>("sku-reconnect").GetAsync();
        Assert.Equal(9, product?.Stock);
    }

    /// <summary>What load workers have done: the start (ticks) of the last call each completed, and a wait on them.</summary>
    private sealed class WorkerProgress(int workers)
    {
        private readonly long[] _lastStarted = new long[workers];

        public void Completed(int worker, long startedTicks) => Volatile.Write(ref _lastStarted[worker], startedTicks);

        /// <summary>Returns once every worker has completed a call (answered or failed) that it started after <paramref name="ticks"/>.</summary>
        public async Task EveryWorkerCompletedOneStartedAfterAsync(long ticks)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90); // only catches a hang
            while (Behind(ticks) is var behind && behind > 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"{behind} of {_lastStarted.Length} workers completed no call in 90 s");
                await Task.Delay(20);
            }
        }

        private int Behind(long ticks) => Enumerable.Range(0, _lastStarted.Length).Count(i => Volatile.Read(ref _lastStarted[i]) <= ticks);
    }

    /// <summary>A private database, a launcher with N silo processes, and clients; everything stops on dispose.</summary>
    internal sealed class ClusterRun : IAsyncDisposable
    {
        private readonly List<IHost> _clients = [];
        private readonly string _logs;

        private ClusterRun(string connectionString, ShardsClusterOptions cluster, ClusterLauncher launcher, ConcurrentQueue<string> reports, string logs)
        {
            ConnectionString = connectionString;
            Cluster = cluster;
            Launcher = launcher;
            Reports = reports;
            _logs = logs;
        }

        public string ConnectionString { get; }

        public ShardsClusterOptions Cluster { get; }

        public ClusterLauncher Launcher { get; }

        public ConcurrentQueue<string> Reports { get; }

        public static async Task<ClusterRun> StartAsync(string name, int silos, bool restart, string? connectionString = null)
        {
            connectionString ??= await TestPostgres.CreateDatabaseAsync(name);
            var cluster = new ShardsClusterOptions { ClusterId = $"{name}-test", ServiceId = $"{name}-test" };
            var logs = Path.Combine(Path.GetTempPath(), $"shards-{name}-logs-{Guid.NewGuid():N}");
            var reports = new ConcurrentQueue<string>();
            var launcher = new ClusterLauncher(
                new LauncherOptions
                {
                    SiloCount = silos,
                    ConnectionString = connectionString,
                    ClusterId = cluster.ClusterId,
                    ServiceId = cluster.ServiceId,
                    RestartCrashedSilos = restart,
                    LogDirectory = logs,
                },
                reports.Enqueue);
            var run = new ClusterRun(connectionString, cluster, launcher, reports, logs);
            try
            {
                await launcher.StartAsync(CancellationToken.None);
            }
            catch
            {
                await run.DisposeAsync();
                throw;
            }

            return run;
        }

        public async Task<IClusterClient> ConnectAsync(ShardsClientOptions? options = null)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.AddShardsClient(ConnectionString, Cluster, options);
            var host = builder.Build();
            _clients.Add(host);
            await host.StartAsync();
            return host.Services.GetRequiredService<IClusterClient>();
        }

        public async Task<MembershipRow?> WaitForStatusAsync(int siloPort, SiloStatusCode status, TimeSpan within)
        {
            var deadline = DateTime.UtcNow + within;
            MembershipRow? row = null;
            while (DateTime.UtcNow < deadline)
            {
                var rows = await MembershipTableReader.ReadAsync(ConnectionString, Cluster.ClusterId);
                row = rows.Where(r => r.Port == siloPort).MaxBy(r => r.Generation);
                if (row?.Status == status)
                {
                    break;
                }

                await Task.Delay(50);
            }

            return row;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var client in _clients)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await client.StopAsync(timeout.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                client.Dispose();
            }

            await Launcher.DisposeAsync();
            if (Directory.Exists(_logs))
            {
                Directory.Delete(_logs, recursive: true);
            }
        }
    }
}
