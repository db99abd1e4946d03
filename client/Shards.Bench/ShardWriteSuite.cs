using Shards.Cli.Core;
using Shards.Contracts.Catalog;
using Shards.LocalCluster;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Bench;

/// <summary>
/// Persisted writes by shard count: for each <see cref="ShardLayout"/> a fresh silo whose grain state is sharded over
/// that many databases (own service id, so each layout has its own shard map), the same product upserts as the
/// write suite with <see cref="BenchOptions.ShardWriteInFlight"/> in flight, then <c>pgbench -N</c> on the same
/// server(s) right after (on separate servers: one pgbench per server at once, the in-flight count split between them,
/// TPS summed) as the ceiling. "Separate" servers are private PostgreSQL instances of their own (own postmaster, WAL
/// and shared buffers) on this machine: shard i lives on server i, the bench's main server being server 0.
/// </summary>
public sealed class ShardWriteSuite(CliContext context, BenchOptions options, string mainConnectionString, string workDirectory)
{
    private readonly List<PrivatePostgresServer> _extraServers = [];
    private readonly List<string> _serverConnections = [mainConnectionString];

    public async Task<IReadOnlyList<ShardWriteRun>> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var runs = new List<ShardWriteRun>();
            var initialised = new HashSet<int>();
            foreach (var layout in options.ShardLayouts)
            {
                var servers = layout.SeparateServers ? layout.Shards : 1;
                await EnsureServersAsync(servers, cancellationToken);
                foreach (var server in Enumerable.Range(0, servers).Where(initialised.Add))
                {
                    CliOutput.Status($"bench: pgbench -i on server {server} ...");
                    await new Pgbench(context.DataSources, _serverConnections[server]).InitialiseAsync(cancellationToken);
                }

                runs.Add(await RunLayoutAsync(layout, runs.FirstOrDefault(r => r.Shards == 1)?.WritesPerSecond, cancellationToken));
            }

            return runs;
        }
        finally
        {
            foreach (var server in _extraServers)
            {
                await server.DestroyAsync(CancellationToken.None);
            }
        }
    }

    private async Task<ShardWriteRun> RunLayoutAsync(ShardLayout layout, double? oneShardWritesPerSecond, CancellationToken cancellationToken)
    {
        var name = $"w{layout.Shards}{(layout.SeparateServers ? "sep" : "one")}";
        var shards = new List<ShardConnection>();
        for (var i = 0; i < layout.Shards; i++)
        {
            var server = layout.SeparateServers ? i : 0;
            var database = await CreateDatabaseAsync(server, $"bench_{name}_s{i}", cancellationToken);
            await new SchemaMigrator(context.DataSources.For(database)).ApplyAsync(cancellationToken);
            shards.Add(new ShardConnection($"s{i}", database));
        }

        var launcherOptions = new LauncherOptions
        {
            SiloCount = 1,
            ConnectionString = mainConnectionString,
            ClusterId = $"bench-{name}",
            ServiceId = $"bench-{name}",
            RestartCrashedSilos = false,
            LogDirectory = Path.Combine(workDirectory, "logs"),
        };
        foreach (var (key, value) in ShardDatabases.Environment(shards))
        {
            launcherOptions.SiloEnvironment[key] = value;
        }

        await using var launcher = new ClusterLauncher(launcherOptions, message => CliOutput.Status("bench:   " + message));
        CliOutput.Status($"bench: {layout.Describe()}: starting a silo ...");
        await launcher.StartAsync(cancellationToken);
        await using var client = new CliContext(true, mainConnectionString, launcherOptions.ClusterId, context.DataSources);
        var grains = await client.ConnectAsync(cancellationToken);
        var products = Enumerable.Range(1, options.Keys).Select(i => grains.GetGrain<IProductGrain>(StoreSeeder.Sku(i))).ToArray();
        await Parallel.ForEachAsync(
            products.Select((product, i) => (product, i)),
            new ParallelOptions { MaxDegreeOfParallelism = options.ShardWriteInFlight, CancellationToken = cancellationToken },
            async (p, token) => await p.product.UpsertAsync(new ProductDefinition($"Product {p.i + 1}", 9.99m, 100), token));

        var version = 0;
        var loop = await ClosedLoop.RunAsync(
            options.ShardWriteInFlight, options.Warmup, options.ShardWriteDuration,
            key => products[key].UpsertAsync(new ProductDefinition($"Product {key + 1}", 9.99m, 100 + (Interlocked.Increment(ref version) % 50))),
            options.Keys, [], cancellationToken);
        var servers = layout.SeparateServers ? layout.Shards : 1;
        CliOutput.Status($"bench: {layout.Describe()}: {loop.PerSecond:N0} acknowledged writes/s; now pgbench -N on {servers} server(s) ...");
        var perServer = Math.Max(1, options.ShardWriteInFlight / servers);
        var tps = await Task.WhenAll(Enumerable.Range(0, servers).Select(s =>
            new Pgbench(context.DataSources, _serverConnections[s]).SimpleUpdateTpsAsync(perServer, options.ShardWriteDuration, cancellationToken)));
        var ceiling = tps.Sum();
        return new ShardWriteRun(
            layout.Shards, layout.SeparateServers, servers, options.ShardWriteInFlight, loop.Calls, loop.Errors, loop.PerSecond,
            loop.Latency.PercentileMs(50) ?? 0, loop.Latency.PercentileMs(99) ?? 0,
            layout.Shards == 1 ? 1.0 : oneShardWritesPerSecond is { } one && one > 0 ? loop.PerSecond / one : null,
            ceiling, perServer, ceiling > 0 ? loop.PerSecond / ceiling : 0);
    }

    private async Task EnsureServersAsync(int count, CancellationToken cancellationToken)
    {
        while (_serverConnections.Count < count)
        {
            var server = PrivatePostgresServer.Create(new PrivatePostgresOptions
            {
                Directory = Path.Combine(workDirectory, $"postgres-{_serverConnections.Count}"),
                BinDirectory = context.PrivatePostgres.BinDirectory,
                Database = "shards",
            });
            await server.DestroyAsync(cancellationToken);
            CliOutput.Status($"bench: starting private PostgreSQL server {_serverConnections.Count} ...");
            _extraServers.Add(server);
            var connectionString = await server.StartAsync(cancellationToken);
            server.DestroyWhenProcessExits(Environment.ProcessId);
            _serverConnections.Add(connectionString);
        }
    }

    private async Task<string> CreateDatabaseAsync(int server, string database, CancellationToken cancellationToken)
    {
        var admin = new Npgsql.NpgsqlConnectionStringBuilder(_serverConnections[server]);
        await using var connection = new Npgsql.NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS {database}", connection))
        {
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {database}", connection))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        admin.Database = database;
        return admin.ConnectionString;
    }
}
