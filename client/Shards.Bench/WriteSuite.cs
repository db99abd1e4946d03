using Shards.Cli.Core;
using Shards.Contracts.Catalog;
using Shards.Postgres;

namespace Shards.Bench;

/// <summary>
/// Persisted writes: Shards' acknowledged product upserts on the seeded keys, N in flight, then pgbench -N with N
/// connections on the same PostgreSQL server, right after each other.
/// </summary>
public static class WriteSuite
{
    public static async Task<IReadOnlyList<WriteComparison>> RunAsync(
        IGrainFactory grains, BenchOptions options, PostgresDataSources dataSources, string connectionString, CancellationToken cancellationToken)
    {
        var results = new List<WriteComparison>();
        var pgbench = new Pgbench(dataSources, connectionString);
        CliOutput.Status("bench: pgbench -i on database 'pgbench' of the same server ...");
        await pgbench.InitialiseAsync(cancellationToken);
        var products = Enumerable.Range(1, options.Keys).Select(i => grains.GetGrain<IProductGrain>(StoreSeeder.Sku(i))).ToArray();
        var version = 0;
        foreach (var inFlight in options.WriteConcurrency)
        {
            var loop = await ClosedLoop.RunAsync(
                inFlight, options.Warmup, options.WriteDuration,
                key => products[key].UpsertAsync(new ProductDefinition($"Product {key + 1}", 9.99m, 100 + (Interlocked.Increment(ref version) % 50))),
                options.Keys, [], cancellationToken);
            CliOutput.Status($"bench: {inFlight} writes in flight: {loop.PerSecond:N0} acknowledged writes/s; now {Pgbench.Describe(inFlight, options.WriteDuration)} ...");
            var tps = await pgbench.SimpleUpdateTpsAsync(inFlight, options.WriteDuration, cancellationToken);
            var ratio = tps > 0 ? loop.PerSecond / tps : 0;
            results.Add(new WriteComparison(
                inFlight, loop.Calls, loop.Errors, loop.PerSecond, loop.Latency.PercentileMs(50) ?? 0, loop.Latency.PercentileMs(99) ?? 0,
                tps, ratio, ratio >= BenchResults.WriteTarget));
        }

        return results;
    }
}
