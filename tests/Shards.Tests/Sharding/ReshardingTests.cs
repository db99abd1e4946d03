using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Contracts;
using Shards.Contracts.Common;
using Shards.Hashing;
using Shards.Storage.Postgres;
using Shards.Storage.Postgres.Resharding;
using Shards.Storage.Postgres.Sharding;
using Shards.Tests.Database;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Sharding;

/// <summary>
/// Online resharding over shard databases on two PostgreSQL servers: keys move while two silos' storages keep writing,
/// nothing is lost or duplicated, only keys whose owner changes move, an interrupted resharding resumes, a silo that
/// missed the moving map cannot write, and bad requests change nothing.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(TwoServerShardsCollection.Name)]
public sealed class ReshardingTests(TwoServerShardsFixture shards) : IDisposable
{
    private const string ProductState = "product";
    private static readonly TimeSpan RefreshPeriod = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(600);

    /// <summary>Part of the coordinator's fence (lease + refresh + command timeout): short here to keep the tests short.</summary>
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(2);
    private readonly List<OrleansAdoNetProviders> _providers = [];

    [Fact]
    public async Task Adding_a_shard_under_concurrent_writes_moves_only_the_keys_it_gains_and_loses_or_duplicates_nothing()
    {
        var serviceId = NewServiceId();
        var s2 = await TestPostgres.CreateDatabaseAsync("reshard_s2");
        var all = Options(("s0", shards.S0), ("s1", shards.S1), ("s2", s2));

        // Silo A is configured with s2 ahead of the resharding; silo B is not and reaches it through the main connection.
        var siloB = await SiloAsync(serviceId, Reaching(Options(("s0", shards.S0), ("s1", shards.S1)))); // the first: map version 1 is s0, s1
        var siloA = await SiloAsync(serviceId, Options(("s0", shards.S0), ("s1", shards.S1), ("s2", s2)));
        var seeded = Enumerable.Range(0, 600).Select(i => $"sku-add-{i}").ToList();
        var writers = new Writers([siloA.Storage, siloB.Storage]);
        await writers.SeedAsync(seeded);

        var before = new ShardRouter(["s0", "s1"]);
        var after = new ShardRouter(["s0", "s1", "s2"]);
        var expectedMoves = seeded.Count(k => before.ShardFor($"product/{k}") != after.ShardFor($"product/{k}"));
        Assert.All(seeded.Where(k => before.ShardFor($"product/{k}") != after.ShardFor($"product/{k}")), k => Assert.Equal("s2", after.ShardFor($"product/{k}")));

        var coordinator = new ReshardCoordinator(TestPostgres.DataSources, shards.Main, serviceId, Batched(all, 40), StateNames.GrainTypes);
        var movingStarted = new TaskCompletionSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p.Phase == "moving")
            {
                movingStarted.TrySetResult();
            }
        });

        var fresh = Enumerable.Range(0, 60).Select(i => $"sku-add-new-{i}").ToList();
        var load = writers.RunAsync(seeded);
        var newKeys = Task.Run(async () =>
        {
            await movingStarted.Task;
            await writers.SeedAsync(fresh);
        });
        var result = await coordinator.RunAsync(new ReshardRequest(ReshardOperation.Add, "s2", s2), progress, CancellationToken.None);
        await writers.AcknowledgedMoreAsync(16); // writes go on after the resharding, with the new map
        await writers.StopAsync(load);
        await newKeys;

        Assert.Equal(expectedMoves, result.KeysMoved);
        Assert.Equal(seeded.Count, result.KeysScanned);
        Assert.InRange((double)result.KeysMoved / seeded.Count, 0.25, 0.42);
        Assert.Equal(3, result.TargetVersion);
        Assert.False(result.Resumed);
        Assert.True(writers.Acknowledged > seeded.Count, $"only {writers.Acknowledged} writes were acknowledged during the resharding");
        Assert.Equal(0, writers.Conflicts);
        await AssertEveryKeyOnceWhereRoutedAsync(serviceId, after, [.. seeded, .. fresh], writers, ("s0", shards.S0), ("s1", shards.S1), ("s2", s2));

        var map = await TestStores.Maps(shards.Main).ReadCurrentAsync(serviceId);
        Assert.Equal(ShardRouter.Algorithm, map!.Document.Algorithm);
        Assert.Equal(["s0", "s1", "s2"], map.Document.Names);
        Assert.Null(await TestStores.Resharding(shards.Main).ReadInProgressAsync(serviceId, CancellationToken.None));
    }

    [Fact]
    public async Task Removing_a_shard_under_concurrent_writes_empties_it_and_loses_or_duplicates_nothing()
    {
        var serviceId = NewServiceId();
        var s2 = await TestPostgres.CreateDatabaseAsync("reshard_s2");
        var all = Options(("s0", shards.S0), ("s1", shards.S1), ("s2", s2));
        var siloA = await SiloAsync(serviceId, all);
        var siloB = await SiloAsync(serviceId, all);
        var keys = Enumerable.Range(0, 450).Select(i => $"sku-remove-{i}").ToList();
        var writers = new Writers([siloA.Storage, siloB.Storage]);
        await writers.SeedAsync(keys);
        var inS1 = await RowCountAsync(shards.S1, serviceId);
        Assert.InRange(inS1, 100, 200);

        var load = writers.RunAsync(keys);
        var result = await new ReshardCoordinator(TestPostgres.DataSources, shards.Main, serviceId, Batched(all, 40), StateNames.GrainTypes)
            .RunAsync(new ReshardRequest(ReshardOperation.Remove, "s1", null), null, CancellationToken.None);
        await writers.AcknowledgedMoreAsync(16); // writes go on after the resharding, with the new map
        await writers.StopAsync(load);

        Assert.Equal(inS1, result.KeysMoved);
        Assert.Equal(0, await RowCountAsync(shards.S1, serviceId));
        Assert.Equal(0, writers.Conflicts);
        Assert.True(writers.Acknowledged > keys.Count);
        await AssertEveryKeyOnceWhereRoutedAsync(serviceId, new ShardRouter(["s0", "s2"]), keys, writers, ("s0", shards.S0), ("s1", shards.S1), ("s2", s2));
    }

    [Fact]
    public async Task An_interrupted_resharding_resumes_where_it_stopped_and_completes()
    {
        var serviceId = NewServiceId();
        var s2 = await shards.SecondServer.CreateDatabaseAsync("reshard_s2");
        var all = Batched(Options(("s0", shards.S0), ("s1", shards.S1), ("s2", s2)), 25);
        await SiloAsync(serviceId, Options(("s0", shards.S0), ("s1", shards.S1))); // map version 1: s0, s1
        var silo = await SiloAsync(serviceId, Options(("s0", shards.S0), ("s1", shards.S1), ("s2", s2)));
        var keys = Enumerable.Range(0, 500).Select(i => $"sku-resume-{i}").ToList();
        var writers = new Writers([silo.Storage]);
        await writers.SeedAsync(keys);
        var before = new ShardRouter(["s0", "s1"]);
        var after = new ShardRouter(["s0", "s1", "s2"]);
        var expectedMoves = keys.Count(k => before.ShardFor($"product/{k}") != after.ShardFor($"product/{k}"));

        using var stop = new CancellationTokenSource();
        var interrupted = new SynchronousProgress(p =>
        {
            if (p.KeysMoved >= 50)
            {
                stop.Cancel();
            }
        });
        var request = new ReshardRequest(ReshardOperation.Add, "s2", s2);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ReshardCoordinator(TestPostgres.DataSources, shards.Main, serviceId, all, StateNames.GrainTypes).RunAsync(request, interrupted, stop.Token));

        var record = await TestStores.Resharding(shards.Main).ReadInProgressAsync(serviceId, CancellationToken.None);
        Assert.NotNull(record);
        Assert.InRange(record.KeysMoved, 50, expectedMoves - 1);
        Assert.True((await TestStores.Maps(shards.Main).ReadCurrentAsync(serviceId))!.Document.IsMoving);

        // Half moved: the silo routes every key to wherever its row is now, and writes each one again.
        await writers.WriteEachOnceAsync(keys);

        // Another resharding cannot start meanwhile; the same one continues.
        var other = await Assert.ThrowsAsync<ReshardException>(() =>
            new ReshardCoordinator(TestPostgres.DataSources, shards.Main, serviceId, all, StateNames.GrainTypes).RunAsync(new ReshardRequest(ReshardOperation.Remove, "s0", null), null, CancellationToken.None));
        Assert.Contains("in the middle of another resharding (add s2", other.Message, StringComparison.Ordinal);
        var result = await new ReshardCoordinator(TestPostgres.DataSources, shards.Main, serviceId, all, StateNames.GrainTypes).RunAsync(request, null, CancellationToken.None);

        Assert.True(result.Resumed);
        Assert.Equal(expectedMoves, result.KeysMoved);
        Assert.Equal(expectedMoves - record.KeysMoved, result.KeysMovedThisRun);
        Assert.Equal(keys.Count, result.KeysScanned); // the rows the first run moved already count too
        Assert.Equal(0, writers.Conflicts);
        await AssertEveryKeyOnceWhereRoutedAsync(serviceId, after, keys, writers, ("s0", shards.S0), ("s1", shards.S1), ("s2", s2));
    }

    [Fact]
    public async Task A_silo_that_missed_the_moving_map_refuses_reads_and_writes_once_the_fence_has_passed_then_follows_it()
    {
        var serviceId = NewServiceId();
        var s2 = await TestPostgres.CreateDatabaseAsync("reshard_s2");
        var all = Options(("s0", shards.S0), ("s1", shards.S1), ("s2", s2));
        await SiloAsync(serviceId, Options(("s0", shards.S0), ("s1", shards.S1))); // map version 1: s0, s1
        var writers = new Writers([(await SiloAsync(serviceId, all)).Storage]);
        var keys = Enumerable.Range(0, 40).Select(i => $"sku-stale-{i}").ToList();
        await writers.SeedAsync(keys);

        // This silo reads the map as its own role, which is then locked out: it stays on version 1 and its lease runs out.
        await Sql.ExecuteAsync(shards.Main, "DO $$ BEGIN CREATE ROLE shards_stale_silo LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        // The main connection string's password, if any (the private test server asks every role for one).
        var password = new Npgsql.NpgsqlConnectionStringBuilder(shards.Main).Password is { Length: > 0 } pw ? $" PASSWORD '{pw.Replace("'", "''", StringComparison.Ordinal)}'" : string.Empty;
        await Sql.ExecuteAsync(shards.Main, $"ALTER ROLE shards_stale_silo LOGIN{password}; GRANT SELECT ON shards_shard_map TO shards_stale_silo");
        var staleMain = new Npgsql.NpgsqlConnectionStringBuilder(shards.Main) { Username = "shards_stale_silo" }.ConnectionString;
        var stale = await SiloAsync(serviceId, all, staleMain);
        await SetLoginAsync(allowed: false);
        try
        {
            await new ReshardCoordinator(TestPostgres.DataSources, shards.Main, serviceId, all, StateNames.GrainTypes).RunAsync(new ReshardRequest(ReshardOperation.Add, "s2", s2), null, CancellationToken.None);

            // The key's row left the shard this silo's map names: answering "no row" would be a 404 or an empty cart.
            var moved = keys.First(k => new ShardRouter(["s0", "s1", "s2"]).ShardFor($"product/{k}") == "s2");
            var refusedRead = await Assert.ThrowsAsync<ShardsException>(() => stale.Storage.ReadStateAsync(ProductState, Product(moved), new GrainState<ContractProductState>()));
            Assert.Equal(ShardsErrorCode.StorageUnavailable, refusedRead.Code);
            Assert.Contains("Shard map unconfirmed: version 1", refusedRead.Message, StringComparison.Ordinal);
            Assert.Contains("Refusing to read", refusedRead.Message, StringComparison.Ordinal);

            var state = new GrainState<ContractProductState>(new ContractProductState { Name = "from the stale silo" });
            var refused = await Assert.ThrowsAsync<ShardsException>(() => stale.Storage.WriteStateAsync(ProductState, Product(moved), state));
            Assert.Equal(ShardsErrorCode.StorageUnavailable, refused.Code);
            Assert.Contains("Shard map unconfirmed: version 1", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            await SetLoginAsync(allowed: true);
        }

        // Reachable again: it adopts the current map on its next refresh, and writes where the key lives now.
        var key = keys.First(k => new ShardRouter(["s0", "s1", "s2"]).ShardFor($"product/{k}") == "s2");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (stale.Monitor.Map!.Version != 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the silo did not adopt map version 3");
            await Task.Delay(100);
        }

        var current = new GrainState<ContractProductState>();
        await StaleMapRetry.RunAsync(() => stale.Storage.ReadStateAsync(ProductState, Product(key), current));
        Assert.Equal($"{key} v0", current.State?.Name);
        current.State = new ContractProductState { Name = "from the silo that was stale" };
        await stale.Storage.WriteStateAsync(ProductState, Product(key), current);
        var moved2 = key;
        Assert.Equal(1, await RowCountAsync(s2, serviceId, moved2));
        Assert.Equal(0, await RowCountAsync(shards.S0, serviceId, moved2) + await RowCountAsync(shards.S1, serviceId, moved2));

        async Task SetLoginAsync(bool allowed)
        {
            await Sql.ExecuteAsync(shards.Main, $"ALTER ROLE shards_stale_silo {(allowed ? "LOGIN" : "NOLOGIN")}");
            if (!allowed)
            {
                await Sql.ExecuteAsync(shards.Main, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'shards_stale_silo'");
            }
        }
    }

    [Fact]
    public async Task With_no_silo_live_the_fence_waits_are_skipped_and_said_so_and_with_silos_they_are_kept()
    {
        var serviceId = NewServiceId();
        var s2 = await TestPostgres.CreateDatabaseAsync("reshard_nofence");
        var all = Options(("s0", shards.S0), ("s1", shards.S1), ("s2", s2));
        all.MapLease = TimeSpan.FromSeconds(30); // a fence of over 30 s: a run that waits it cannot pass below
        var silo = await SiloAsync(serviceId, Options(("s0", shards.S0), ("s1", shards.S1)));
        var keys = Enumerable.Range(0, 60).Select(i => $"sku-nofence-{i}").ToList();
        await new Writers([silo.Storage]).SeedAsync(keys);
        var phases = new List<string>();
        var noSilo = new ReshardCoordinator(TestPostgres.DataSources, shards.Main, serviceId, all, StateNames.GrainTypes)
        {
            SilosMayRoute = _ => Task.FromResult(false),
        };

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = await noSilo.RunAsync(new ReshardRequest(ReshardOperation.Add, "s2", s2), new SynchronousProgress(p => phases.Add(p.Phase)), CancellationToken.None);

        Assert.True(watch.Elapsed < noSilo.Fence, $"took {watch.Elapsed.TotalSeconds:0.0} s with a fence of {noSilo.Fence.TotalSeconds:0} s");
        Assert.Equal(2, result.FenceWaitsSkipped);
        Assert.Equal(2, phases.Count(p => p.Contains("no silo is live", StringComparison.Ordinal)));
        Assert.DoesNotContain(phases, p => p.Contains("waiting", StringComparison.Ordinal));

        // With a silo live, the removal waits its fence: the clock of the coordinator is fake, its first wait is the fence.
        var time = new WaitSignallingTimeProvider();
        var withSilo = new ReshardCoordinator(TestPostgres.DataSources, shards.Main, serviceId, all, StateNames.GrainTypes, time)
        {
            SilosMayRoute = _ => Task.FromResult(true),
        };
        var removing = withSilo.RunAsync(new ReshardRequest(ReshardOperation.Remove, "s2", null), null, CancellationToken.None);
        Assert.Equal(withSilo.Fence, await time.NextWaitAsync());
        Assert.Equal(withSilo.Fence, await time.PassAsync(withSilo.Fence));
        time.Advance(withSilo.Fence);
        Assert.Equal(0, (await removing).FenceWaitsSkipped);
    }

    [Fact]
    public async Task Bad_requests_are_refused_with_a_clear_message_and_change_nothing()
    {
        var serviceId = NewServiceId();
        var s2 = await TestPostgres.CreateDatabaseAsync("reshard_s2");
        var two = Options(("s0", shards.S0), ("s1", shards.S1));
        await SiloAsync(serviceId, two);
        var coordinator = new ReshardCoordinator(TestPostgres.DataSources, shards.Main, serviceId, two, StateNames.GrainTypes);

        async Task<ReshardException> RefusedAsync(ReshardRequest request) =>
            await Assert.ThrowsAsync<ReshardException>(() => coordinator.RunAsync(request, null, CancellationToken.None));

        var unknown = await RefusedAsync(new ReshardRequest(ReshardOperation.Remove, "s7", null));
        Assert.Contains("Unknown shard 's7'", unknown.Message, StringComparison.Ordinal);
        var existing = await RefusedAsync(new ReshardRequest(ReshardOperation.Add, "s1", s2));
        Assert.Contains("already in the shard map", existing.Message, StringComparison.Ordinal);
        var sameDatabase = await RefusedAsync(new ReshardRequest(ReshardOperation.Add, "s9", shards.S0));
        Assert.Contains("is already shard 's0'", sameDatabase.Message, StringComparison.Ordinal);
        var unreachable = await RefusedAsync(new ReshardRequest(ReshardOperation.Add, "s2", "Host=127.0.0.1;Port=1;Database=nowhere;Username=postgres;Timeout=2"));
        Assert.True(unreachable.DependencyDown);
        Assert.Contains("Cannot reach shard s2 (127.0.0.1:1/nowhere)", unreachable.Message, StringComparison.Ordinal);
        foreach (var refused in new[] { unknown, existing, sameDatabase, unreachable })
        {
            Assert.EndsWith("Nothing changed.", refused.Message, StringComparison.Ordinal);
        }

        // The last shard cannot go: remove s1 first (a real resharding), then s0 is the last one.
        await coordinator.RunAsync(new ReshardRequest(ReshardOperation.Remove, "s1", null), null, CancellationToken.None);
        var last = await RefusedAsync(new ReshardRequest(ReshardOperation.Remove, "s0", null));
        Assert.Contains("it is the last shard", last.Message, StringComparison.Ordinal);

        var map = await TestStores.Maps(shards.Main).ReadCurrentAsync(serviceId);
        Assert.Equal(3, map!.Version); // 1, then the moving map and the target map of the one real resharding
        Assert.Equal(["s0"], map.Document.Names);
        Assert.Null(await TestStores.Resharding(shards.Main).ReadInProgressAsync(serviceId, CancellationToken.None));
        Assert.Equal(0, await RowCountAsync(s2, serviceId));
    }

    public void Dispose()
    {
        foreach (var providers in _providers)
        {
            providers.Dispose();
        }
    }

    private async Task AssertEveryKeyOnceWhereRoutedAsync(
        string serviceId, ShardRouter router, IReadOnlyList<string> keys, Writers writers, params (string Name, string ConnectionString)[] databases)
    {
        var verifier = await SiloAsync(serviceId, Options(databases));
        var rows = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, connectionString) in databases)
        {
            foreach (var key in await KeysAsync(connectionString, serviceId))
            {
                (rows.TryGetValue(key, out var where) ? where : rows[key] = []).Add(name);
            }
        }

        Assert.Equal(keys.Count, rows.Count);
        foreach (var key in keys)
        {
            Assert.Equal([router.ShardFor($"product/{key}")], rows[key]);
            var state = new GrainState<ContractProductState>();
            await StaleMapRetry.RunAsync(() => verifier.Storage.ReadStateAsync(ProductState, Product(key), state));
            Assert.Equal(writers.LastAcknowledged[key], state.State?.Name);
        }
    }

    private async Task<(IGrainStorage Storage, ShardMapMonitor Monitor)> SiloAsync(string serviceId, ShardsStorageOptions options, string? main = null)
    {
        var providers = OrleansAdoNetProviders.ForSilo(main ?? shards.Main, $"cluster-{serviceId}", serviceId, options);
        _providers.Add(providers);
        var storage = await providers.GrainStorageAsync(StorageNames.Catalog);
        return (storage, providers.Services.GetRequiredService<ShardMapMonitor>());
    }

    private static ShardsStorageOptions Options(params (string Name, string ConnectionString)[] databases) => new()
    {
        Shards = databases.Select(d => new ShardOptions { Name = d.Name, ConnectionString = d.ConnectionString }).ToList(),
        MapRefreshPeriod = RefreshPeriod,
        MapLease = Lease,
        CommandTimeout = CommandTimeout,
    };

    private static ShardsStorageOptions Batched(ShardsStorageOptions options, int batchSize)
    {
        options.ReshardBatchSize = batchSize;
        return options;
    }

    private static ShardsStorageOptions Reaching(ShardsStorageOptions options)
    {
        options.ReachUnconfiguredShards = true;
        return options;
    }

    private static GrainId Product(string sku) => GrainId.Create("product", sku);

    private static Task<long> RowCountAsync(string connectionString, string serviceId, string? key = null) => Sql.ScalarAsync<long>(
        connectionString,
        "SELECT count(*) FROM orleans_storage WHERE serviceid = @s AND (@k::text IS NULL OR grainidextensionstring = @k)",
        ("s", serviceId), ("k", key));

    private static async Task<List<string>> KeysAsync(string connectionString, string serviceId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT grainidextensionstring FROM orleans_storage WHERE serviceid = @s", connection);
        command.Parameters.AddWithValue("s", serviceId);
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<string>();
        while (await reader.ReadAsync())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    private static string NewServiceId() => $"reshard-{Guid.NewGuid():N}";

    /// <summary>Progress reported on the coordinator's own flow (Progress&lt;T&gt; would post it to the thread pool, late).</summary>
    private sealed class SynchronousProgress(Action<ReshardProgress> report) : IProgress<ReshardProgress>
    {
        public void Report(ReshardProgress value) => report(value);
    }

    /// <summary>
    /// One writer per key, as one grain activation per key: it reads once, then writes new values in a loop through one of
    /// the silos' storages, re-reading after a version conflict (a grain would deactivate and reload) and retrying after a
    /// refusal (nothing changed). Records each key's last acknowledged value.
    /// </summary>
    private sealed class Writers(IReadOnlyList<IGrainStorage> silos)
    {
        private readonly ConcurrentDictionary<string, GrainState<ContractProductState>> _states = new(StringComparer.Ordinal);
        private volatile bool _stopping;
        private int _acknowledged;
        private int _conflicts;

        public ConcurrentDictionary<string, string> LastAcknowledged { get; } = new(StringComparer.Ordinal);

        public int Acknowledged => Volatile.Read(ref _acknowledged);

        public int Conflicts => Volatile.Read(ref _conflicts);

        public async Task SeedAsync(IEnumerable<string> keys)
        {
            foreach (var key in keys)
            {
                await WriteAsync(key, $"{key} v0");
            }
        }

        public async Task WriteEachOnceAsync(IEnumerable<string> keys)
        {
            foreach (var key in keys)
            {
                await WriteAsync(key, $"{key} once");
            }
        }

        public Task RunAsync(IReadOnlyList<string> keys) => Task.WhenAll(Enumerable.Range(0, 8).Select(lane => Task.Run(async () =>
        {
            for (var round = 1; !_stopping; round++)
            {
                for (var i = lane; i < keys.Count && !_stopping; i += 8)
                {
                    await WriteAsync(keys[i], $"{keys[i]} r{round}");
                }
            }
        })));

        /// <summary>Returns once <paramref name="count"/> more writes than now have been acknowledged.</summary>
        public async Task AcknowledgedMoreAsync(int count)
        {
            var target = Acknowledged + count;
            var deadline = DateTime.UtcNow.AddSeconds(30); // only catches a hang
            while (Acknowledged < target)
            {
                Assert.True(DateTime.UtcNow < deadline, $"{target - Acknowledged} of {count} writes were not acknowledged in 30 s");
                await Task.Delay(10);
            }
        }

        public async Task StopAsync(Task running)
        {
            _stopping = true;
            await running;
        }

        private async Task WriteAsync(string key, string value)
        {
            var silo = silos[(int)((uint)key.GetHashCode(StringComparison.Ordinal) % (uint)silos.Count)];
            var grain = Product(key);
            if (!_states.TryGetValue(key, out var state))
            {
                state = new GrainState<ContractProductState>();
                await StaleMapRetry.RunAsync(() => silo.ReadStateAsync(ProductState, grain, state));
                _states[key] = state;
            }

            for (var attempt = 0; ; attempt++)
            {
                Assert.True(attempt < 500, $"{key}: no write accepted in 500 attempts");
                state.State = new ContractProductState { Name = value };
                try
                {
                    await silo.WriteStateAsync(ProductState, grain, state);
                    LastAcknowledged[key] = value;
                    Interlocked.Increment(ref _acknowledged);
                    return;
                }
                catch (InconsistentStateException)
                {
                    Interlocked.Increment(ref _conflicts);
                    await StaleMapRetry.RunAsync(() => silo.ReadStateAsync(ProductState, grain, state));
                }
                catch (ShardsException ex) when (ex.Code == ShardsErrorCode.StorageUnavailable)
                {
                    await Task.Delay(20);
                }
            }
        }
    }
}
