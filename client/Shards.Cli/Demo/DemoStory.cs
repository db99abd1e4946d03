using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;
using Shards.Cli.Commands;
using Shards.Cli.Core;
using Shards.Client;
using Shards.Contracts.Common;
using Shards.LocalCluster;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Cli.Demo;

/// <summary>What the demo measured; printed at the end and as JSON with <c>--json</c>.</summary>
public sealed record DemoSummary(
    int Silos,
    int Products,
    int Carts,
    double SeedSeconds,
    double SeedWritesPerSecond,
    string KilledSilo,
    int KeysOnKilledSilo,
    double? DeclaredDeadAfterSeconds,
    double FirstKeyBackAfterSeconds,
    double MedianKeyBackAfterSeconds,
    double AllKeysBackAfterSeconds,
    int KeysMoved,
    int ValuesVerified,
    int ValuesWrong,
    IReadOnlyDictionary<string, int> DistributionBefore,
    IReadOnlyDictionary<string, int> DistributionAfter,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, long>? RowsPerShard = null);

/// <summary>
/// The whole kill-a-silo story: private PostgreSQL, N silos, seed, distribution, SIGKILL the busiest silo,
/// watch the membership table declare it dead, time until every one of its keys answers from a survivor,
/// verify every value, clean up. With <c>shards</c> &gt; 1, grain state is spread over that many databases.
/// </summary>
public sealed class DemoStory(CliContext context, int silos, int products, int carts, int shards = 1, bool highAvailability = false)
{
    private const int Steps = 8;
    private readonly CliOutput _out = context.Output;

    public async Task<DemoSummary> RunAsync(CancellationToken cancellationToken)
    {
        var demoRoot = Path.GetFullPath(Path.Combine(".shards", "demo"));
        IPrivatePostgres? server = null;
        ClusterLauncher? launcher = null;
        var cluster = new ShardsClusterOptions { ClusterId = "shards", ServiceId = "shards" };
        IReadOnlyList<ShardConnection> shardDatabases = [];
        try
        {
            // 1. PostgreSQL: a fresh private server, or the configured one with a cluster and service of our own.
            var connectionString = await Step(1, "PostgreSQL", async () =>
            {
                if (context.ConfiguredConnectionString is { } configured)
                {
                    shardDatabases = await ShardDatabases.CreateAsync(context, null, shards, cancellationToken);
                    var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss");
                    cluster = new ShardsClusterOptions { ClusterId = $"demo-{stamp}", ServiceId = $"demo-{stamp}" };
                    await new SchemaMigrator(context.DataSources.For(configured)).ApplyAsync(cancellationToken);
                    return (configured, $"using {PostgresAvailability.Describe(configured)} (cluster '{cluster.ClusterId}'), schema applied");
                }

                var options = context.PrivatePostgres;
                server = highAvailability
                    ? PostgresHaFormation.Create(new PostgresHaOptions
                    {
                        Directory = Path.Combine(demoRoot, "postgres-ha"),
                        BinDirectory = context.PostgresHa.BinDirectory,
                        Database = context.PostgresHa.Database,
                    })
                    : PrivatePostgresServer.Create(new PrivatePostgresOptions
                    {
                        Directory = Path.Combine(demoRoot, "postgres"),
                        BinDirectory = options.BinDirectory,
                        Database = options.Database,
                    });
                await server.DestroyAsync(cancellationToken);
                var started = await server.StartAsync(cancellationToken);
                var report = await new SchemaMigrator(context.DataSources.For(started)).ApplyAsync(cancellationToken);
                shardDatabases = await ShardDatabases.CreateAsync(context, server, shards, cancellationToken);
                var kind = highAvailability ? "private pg_auto_failover formation (monitor, primary, synchronous standby)" : "private server";
                return (started, $"{kind} on {PostgresAvailability.Describe(started)}, {report.Applied.Count} migrations applied" +
                    (shardDatabases.Count > 0 ? $", grain state in {shardDatabases.Count} shard databases ({string.Join(", ", shardDatabases.Select(s => s.Target))})" : string.Empty));
            });

            // 2. Silos.
            var launcherOptions = new LauncherOptions
            {
                SiloCount = silos,
                ConnectionString = connectionString,
                ClusterId = cluster.ClusterId,
                ServiceId = cluster.ServiceId,
                RestartCrashedSilos = false,
                LogDirectory = Path.Combine(demoRoot, "logs"),
            };
            foreach (var (name, value) in ShardDatabases.Environment(shardDatabases))
            {
                launcherOptions.SiloEnvironment[name] = value;
            }

            launcher = new ClusterLauncher(launcherOptions, message => CliOutput.Status("    " + message));
            await Step(2, "Silos", async () =>
            {
                await launcher.StartAsync(cancellationToken);
                return (0, $"{silos} active: " + string.Join(", ", launcher.Silos.Select(s => $"{s.Name} (pid {s.Pid}, port {s.SiloPort})")));
            });

            var demoContext = new CliContext(context.Output.Json, connectionString, cluster.ClusterId, context.DataSources);
            await using var _ = demoContext;
            var client = await demoContext.ConnectAsync(cancellationToken);
            var seeder = new StoreSeeder(client, products, carts);
            var keys = seeder.Keys().ToList();

            // 3. Seed.
            var seedWatch = Stopwatch.StartNew();
            var writes = 0;
            await Step(3, "Seeding", async () =>
            {
                var productProgress = new Progress("products", products);
                await seeder.SeedProductsAsync(productProgress.Advance, cancellationToken);
                productProgress.Finish();
                var cartProgress = new Progress("carts", carts);
                await seeder.SeedCartsAsync(cartProgress.Advance, cancellationToken);
                cartProgress.Finish();
                writes = products + Enumerable.Range(1, carts).Sum(i => seeder.CartLinesAt(i).Count);
                return (0, $"{products} products + {carts} carts = {writes} acknowledged writes in {seedWatch.Elapsed.TotalSeconds:0.0} s ({writes / seedWatch.Elapsed.TotalSeconds:0} writes/s)");
            });
            var seedSeconds = seedWatch.Elapsed.TotalSeconds;

            // 4. Distribution.
            var before = await KeyLocator.LocateAsync(client, keys, new Progress("locating", keys.Count), cancellationToken);
            Header(4, "Distribution", "where the keys live");
            DistributionCommand.Print(_out, before);
            var rowsPerShard = shardDatabases.Count > 0 ? await RowsPerShardAsync(shardDatabases, cluster.ServiceId, cancellationToken) : null;
            if (rowsPerShard is not null)
            {
                _out.Line("  and where their state is stored (rows per shard database):");
                _out.Bars(rowsPerShard.Select(kv => (kv.Key, (int)kv.Value)));
            }

            var busiest = before.Values.GroupBy(l => l.SiloName).MaxBy(g => g.Count())!;
            var victim = launcher.Silos.Single(s => s.Name == busiest.Key);
            var moved = before.Where(kv => kv.Value.SiloName == victim.Name).Select(kv => kv.Key).ToList();

            // 5. Kill. The membership row to watch is the one of this very process (address, port, generation).
            var victimRow = victim.Joined;
            Header(5, "SIGKILL", $"{victim.Name} (pid {victim.Pid}) hosts the most keys: {moved.Count}");
            var killWatch = Stopwatch.StartNew();
            if (!launcher.Kill(victim))
            {
                throw new CliException($"Could not SIGKILL {victim.Name}.", ExitCodes.Unavailable);
            }

            // 6 + 7. Watch the membership table while every moved key is called until it answers from a survivor.
            using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var deadWatch = WatchDeclaredDeadAsync(Membership(connectionString), cluster.ClusterId, victimRow, killWatch, watchStop.Token);
            var backAfter = await TimeReactivationAsync(client, moved, victim.Name, killWatch, cancellationToken);
            await watchStop.CancelAsync();
            var declaredDead = await deadWatch;
            Header(6, "Membership", declaredDead is { } dead
                ? $"{victim.Name} marked Dead in the membership table after {dead:0.00} s"
                : $"{victim.Name} not yet marked Dead when every key had moved");
            await PrintMembersAsync(connectionString, cluster.ClusterId, cancellationToken);
            var sorted = backAfter.Values.Order().ToList();
            var median = sorted.Count == 0 ? 0 : sorted[sorted.Count / 2];
            Header(7, "Reactivation", moved.Count == 0
                ? "no key lived on the killed silo"
                : $"all {moved.Count} keys answered again from other silos: first after {sorted[0]:0.00} s, median {median:0.00} s, last {sorted[^1]:0.00} s");

            // 8. Verify every value.
            var verifyProgress = new Progress("verifying", keys.Count);
            var wrong = await seeder.VerifyAsync(TimeSpan.FromSeconds(30), verifyProgress.Advance, cancellationToken);
            verifyProgress.Finish();
            Header(8, "Verification", $"{keys.Count - wrong.Count}/{keys.Count} values correct, {wrong.Count} lost or wrong");
            foreach (var line in wrong.Take(10))
            {
                _out.Line("    " + line);
            }

            var after = await KeyLocator.LocateAsync(client, keys, null, cancellationToken);
            _out.Line();
            _out.Line("Distribution after the failover:");
            DistributionCommand.Print(_out, after);

            return new DemoSummary(
                silos, products, carts, seedSeconds, writes / seedSeconds, victim.Name, moved.Count, declaredDead,
                sorted.FirstOrDefault(), median, sorted.LastOrDefault(),
                moved.Count(k => after[k].SiloName != victim.Name), keys.Count - wrong.Count, wrong.Count,
                Count(before), Count(after), rowsPerShard);
        }
        finally
        {
            CliOutput.Status("Cleaning up: stopping silos and PostgreSQL ...");
            if (launcher is not null)
            {
                await launcher.DisposeAsync();
            }

            if (server is not null)
            {
                await server.DestroyAsync(CancellationToken.None);
            }
        }
    }

    private MembershipTableReader Membership(string connectionString) => new(context.DataSources.For(connectionString));

    private static async Task<double?> WatchDeclaredDeadAsync(
        MembershipTableReader membership, string clusterId, SiloIdentity? victim, Stopwatch sinceKill, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var rows = await membership.ReadAsync(clusterId, cancellationToken);
                if (victim is not null && rows.FirstOrDefault(victim.Is) is { Status: SiloStatusCode.Dead })
                {
                    return sinceKill.Elapsed.TotalSeconds;
                }

                await Task.Delay(50, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Calls each key until it answers from a silo other than the killed one; seconds since the kill per key.</summary>
    private static async Task<IReadOnlyDictionary<EntityKey, double>> TimeReactivationAsync(
        IGrainFactory grains, IReadOnlyList<EntityKey> keys, string killedSilo, Stopwatch sinceKill, CancellationToken cancellationToken)
    {
        var result = new ConcurrentDictionary<EntityKey, double>();
        var progress = new Progress("keys answering again", keys.Count);
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        giveUp.CancelAfter(TimeSpan.FromMinutes(2));
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 128, CancellationToken = giveUp.Token }, async (key, ct) =>
        {
            while (true)
            {
                try
                {
                    var location = await key.Grain(grains).WhereAsync(ct);
                    if (location.SiloName != killedSilo)
                    {
                        result[key] = sinceKill.Elapsed.TotalSeconds;
                        progress.Advance();
                        return;
                    }
                }
                catch (Exception ex) when (ShardsFailures.IsTransient(ex))
                {
                    // The killed silo still owns the key: Orleans has not declared it dead yet.
                }

                await Task.Delay(25, ct);
            }
        });
        progress.Finish();
        return result;
    }

    private async Task<IReadOnlyDictionary<string, long>> RowsPerShardAsync(
        IReadOnlyList<ShardConnection> shardDatabases, string serviceId, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        var inspection = new ShardInspection(context.DataSources);
        foreach (var shard in shardDatabases)
        {
            rows[$"{shard.Name} {shard.Target}"] = (await inspection.StatisticsAsync(shard.ConnectionString, serviceId, cancellationToken)).Sum(s => s.Rows);
        }

        return rows;
    }

    private async Task PrintMembersAsync(string connectionString, string clusterId, CancellationToken cancellationToken)
    {
        var rows = await Membership(connectionString).ReadAsync(clusterId, cancellationToken);
        _out.Table(
            ["SILO", "ADDRESS", "STATUS", "I-AM-ALIVE"],
            rows.Select(r => (IReadOnlyList<string>)[r.SiloName, $"{r.Endpoint}@{r.Generation}", r.Status.ToString(), $"{(DateTimeOffset.UtcNow - r.IAmAliveTime).TotalSeconds:0.0}s ago"]));
    }

    private async Task<T> Step<T>(int number, string title, Func<Task<(T Value, string Detail)>> action)
    {
        var watch = Stopwatch.StartNew();
        CliOutput.Status($"[{number}/{Steps}] {title} ...");
        var (value, detail) = await action();
        Header(number, title, $"{detail} ({watch.Elapsed.TotalSeconds:0.0} s)");
        return value;
    }

    /// <summary>A step's result: on stdout for people; under <c>--json</c> on stderr, as progress (stdout holds only the summary).</summary>
    private void Header(int number, string title, string detail)
    {
        var line = $"[{number}/{Steps}] {title,-13} {detail}";
        if (_out.Json)
        {
            CliOutput.Status(line);
        }
        else
        {
            _out.Line(line);
        }
    }

    private static Dictionary<string, int> Count(IReadOnlyDictionary<EntityKey, GrainLocation> locations) =>
        locations.Values.GroupBy(l => l.SiloName).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
}
