using Shards.Cli.Core;
using Shards.LocalCluster;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;

namespace Shards.Bench;

/// <summary>
/// What a bench suite runs on: a private PostgreSQL of its own (127.0.0.1 only, under the work directory, deleted
/// at the end, also when this process is SIGKILLed) and silo processes started through the launcher.
/// </summary>
public sealed class BenchEnvironment : IAsyncDisposable
{
    private readonly IPrivatePostgres _server;

    private BenchEnvironment(IPrivatePostgres server, string root, string connectionString, BenchMachine machine)
    {
        _server = server;
        Root = root;
        ConnectionString = connectionString;
        Machine = machine;
    }

    public string Root { get; }

    public string ConnectionString { get; }

    public BenchMachine Machine { get; }

    public static async Task<BenchEnvironment> StartAsync(
        CliContext context, string workDirectory, string label, CancellationToken cancellationToken, bool highAvailability = false)
    {
        var root = Path.GetFullPath(workDirectory);
        IPrivatePostgres server = highAvailability
            ? PostgresHaFormation.Create(new PostgresHaOptions
            {
                Directory = Path.Combine(root, "postgres-ha"),
                BinDirectory = context.PostgresHa.BinDirectory,
                Database = "shards",
            })
            : PrivatePostgresServer.Create(new PrivatePostgresOptions
            {
                Directory = Path.Combine(root, "postgres"),
                BinDirectory = context.PrivatePostgres.BinDirectory,
                Database = "shards",
            });
        try
        {
            await server.DestroyAsync(cancellationToken);
            CliOutput.Status($"{label}: starting a private PostgreSQL{(highAvailability ? " formation (monitor, primary, synchronous standby)" : string.Empty)} ...");
            var connectionString = await server.StartAsync(cancellationToken);
            server.DestroyWhenProcessExits(Environment.ProcessId);
            var database = context.DataSources.For(connectionString);
            await new SchemaMigrator(database).ApplyAsync(cancellationToken);
            return new BenchEnvironment(server, root, connectionString, await MachineProbe.DescribeAsync(database, cancellationToken));
        }
        catch
        {
            await server.DestroyAsync(CancellationToken.None);
            throw;
        }
    }

    /// <summary>A launcher for <paramref name="silos"/> silos of cluster <paramref name="clusterId"/> (not started yet).</summary>
    public ClusterLauncher Launcher(
        int silos, string clusterId, string label, bool declareCrashedSilosDead = true, IReadOnlyDictionary<string, string>? siloSettings = null)
    {
        var options = new LauncherOptions
        {
            SiloCount = silos,
            ConnectionString = ConnectionString,
            ClusterId = clusterId,
            ServiceId = clusterId,
            RestartCrashedSilos = false,
            DeclareCrashedSilosDead = declareCrashedSilosDead,
            KillFrozenSilosAfter = declareCrashedSilosDead ? TimeSpan.FromSeconds(1) : null,
            LogDirectory = Path.Combine(Root, "logs"),
        };
        foreach (var (key, value) in siloSettings ?? new Dictionary<string, string>())
        {
            options.SiloSettings[key] = value;
        }

        return new ClusterLauncher(options, message => CliOutput.Status($"{label}:   {message}"));
    }

    public async ValueTask DisposeAsync()
    {
        CliOutput.Status("bench: cleaning up: PostgreSQL is stopped and deleted ...");
        await _server.DestroyAsync(CancellationToken.None);
    }
}
