using Npgsql;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;
using Shards.Storage.Postgres;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Cli.Core;

/// <summary>
/// <c>--shards N</c> of <c>cluster up</c> and the demo: N shard databases (<c>shards_s0</c>..) on the private
/// PostgreSQL, handed to the silos by environment, and a check against the service's stored shard map first.
/// </summary>
public static class ShardDatabases
{
    public const int MaxShards = 16;

    /// <summary>Set for silos on the private PostgreSQL (<see cref="Storage.Postgres.ShardsStorageOptions.ReachUnconfiguredShards"/>).</summary>
    public const string ReachUnconfiguredShardsVariable = "Shards__Storage__ReachUnconfiguredShards";

    /// <summary>
    /// The shards for <paramref name="count"/>: none (the main database is the one shard) for 1, else
    /// <c>s0</c>..<c>s{N-1}</c> in new databases <c>shards_s0</c>.. on <paramref name="server"/>, with Shards' schema.
    /// </summary>
    public static async Task<IReadOnlyList<ShardConnection>> CreateAsync(
        CliContext context, IPrivatePostgres? server, int count, CancellationToken cancellationToken)
    {
        if (count <= 1)
        {
            return [];
        }

        if (server is null)
        {
            throw new CliException(
                "--shards creates databases on the private PostgreSQL only. For your own PostgreSQL, create the databases and set " +
                "Shards__Storage__Shards__N__Name and Shards__Storage__Shards__N__ConnectionString (the silos inherit them).");
        }

        if (context.StorageOptions.Shards.Count > 0)
        {
            throw new CliException("Shards__Storage__Shards is set in the environment: use either it or --shards, not both.");
        }

        var shards = new List<ShardConnection>();
        for (var i = 0; i < count; i++)
        {
            var connectionString = await server.CreateDatabaseAsync($"shards_s{i}", cancellationToken);
            await new SchemaMigrator(context.DataSources.For(connectionString)).ApplyAsync(cancellationToken);
            shards.Add(new ShardConnection($"s{i}", connectionString));
        }

        return shards;
    }

    /// <summary>
    /// Fails clearly, before any silo starts, when the service already has a shard map with other shards (silos would
    /// refuse to start, or leave a configured shard unused).
    /// </summary>
    public static async Task CheckMapAsync(
        CliContext context, string mainConnectionString, string serviceId, IReadOnlyList<ShardConnection> shards, CancellationToken cancellationToken,
        bool reachUnconfigured = false)
    {
        ShardMap? map;
        try
        {
            map = await new ShardMapStore(context.DataSources, mainConnectionString).ReadCurrentAsync(serviceId, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return; // schema older than the shard map: the silos create it
        }

        var names = shards.Count > 0
            ? shards.Select(s => s.Name).ToList()
            : ShardSet.Resolve(context.StorageOptions, mainConnectionString).Names.ToList();
        if (map is not null && reachUnconfigured && map.Version > 1 && !map.Document.IsMoving)
        {
            // Resharded: the silos reach the map's shards on the private server whatever --shards configured.
            CliOutput.Status($"Service '{serviceId}' keeps its state in shards {string.Join(", ", map.Document.Names)} (shard map version {map.Version}); the silos reach them on the private PostgreSQL.");
            return;
        }

        if (map is not null && !map.Document.Names.Order(StringComparer.Ordinal).SequenceEqual(names.Order(StringComparer.Ordinal)))
        {
            var count = map.Document.Shards.Count;
            var suggestion = map.Document.Names.SequenceEqual([ShardSet.MainShardName]) ? "start without --shards"
                : map.Document.Names.Order(StringComparer.Ordinal).SequenceEqual(Enumerable.Range(0, count).Select(i => $"s{i}").Order(StringComparer.Ordinal))
                    ? $"start with --shards {count}"
                    : "configure those shards";
            throw new CliException(
                $"Service '{serviceId}' already keeps its state in shards {string.Join(", ", map.Document.Names)} (shard map version {map.Version}), " +
                $"not {string.Join(", ", names)}: {suggestion}, or use a fresh database ('shards db stop' and remove its folder). " +
                "To change the shards of a running cluster, use 'shards reshard add|remove'.");
        }
    }

    /// <summary>
    /// Environment variables that give silos these shards. Connection strings travel in the environment, never as
    /// arguments, so that a password never shows in a process list.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Environment(IReadOnlyList<ShardConnection> shards)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < shards.Count; i++)
        {
            variables[$"Shards__Storage__Shards__{i}__Name"] = shards[i].Name;
            variables[$"Shards__Storage__Shards__{i}__ConnectionString"] = shards[i].ConnectionString;
        }

        return variables;
    }
}
