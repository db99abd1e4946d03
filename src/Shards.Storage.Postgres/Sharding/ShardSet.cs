using Npgsql;
using Shards.Postgres;
using Microsoft.Extensions.Options;

namespace Shards.Storage.Postgres.Sharding;

/// <summary>One shard database a silo can reach. <see cref="ToString"/> never shows the connection string.</summary>
public sealed class ShardConnection(string name, string connectionString)
{
    public string Name { get; } = name;

    public string ConnectionString { get; } = connectionString;

    /// <summary>host:port/database, never credentials.</summary>
    public string Target => PostgresAvailability.Describe(ConnectionString);

    /// <summary>Where this shard is, as the shard map records it (no credentials).</summary>
    public ShardLocation Location()
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        return new ShardLocation(Name, builder.Host ?? string.Empty, builder.Port, builder.Database ?? string.Empty);
    }

    public override string ToString() => $"{Name} ({Target})";
}

/// <summary>The shard databases a silo is configured with, validated.</summary>
public sealed class ShardSet
{
    /// <summary>The shard used when none is configured: the main database (<c>ConnectionStrings:Shards</c>).</summary>
    public const string MainShardName = "main";

    private ShardSet(IReadOnlyList<ShardConnection> shards) => Shards = shards;

    public IReadOnlyList<ShardConnection> Shards { get; }

    public IEnumerable<string> Names => Shards.Select(s => s.Name);

    public ShardConnection? Find(string name) => Shards.FirstOrDefault(s => s.Name == name);

    /// <summary>
    /// The configured shards, or the single shard <see cref="MainShardName"/> on <paramref name="mainConnectionString"/>
    /// when none is configured. Throws <see cref="OptionsValidationException"/> with a message a person can act on.
    /// </summary>
    public static ShardSet Resolve(ShardsStorageOptions? options, string mainConnectionString)
    {
        var configured = options?.Shards ?? [];
        if (configured.Count == 0)
        {
            return new ShardSet([new ShardConnection(MainShardName, mainConnectionString)]);
        }

        var shards = new List<ShardConnection>();
        for (var i = 0; i < configured.Count; i++)
        {
            var (name, connectionString) = (configured[i].Name?.Trim() ?? string.Empty, configured[i].ConnectionString);
            if (!IsValidName(name))
            {
                throw Invalid(
                    $"Shards:Storage:Shards:{i}:Name '{name}' is not a shard name: use 1-32 of a-z, 0-9, '_' and '-', starting with a letter (e.g. s0).");
            }

            if (string.IsNullOrWhiteSpace(connectionString) || PostgresAvailability.Describe(connectionString).StartsWith('('))
            {
                throw Invalid(
                    $"Shard '{name}' (Shards:Storage:Shards:{i}:ConnectionString) needs a PostgreSQL connection string, e.g. Host=127.0.0.1;Port=5432;Database=shards_s0;Username=postgres.");
            }

            if (shards.Any(s => s.Name == name))
            {
                throw Invalid($"Shard name '{name}' is configured twice (Shards:Storage:Shards).");
            }

            var shard = new ShardConnection(name, connectionString);
            if (shards.FirstOrDefault(s => s.Target == shard.Target) is { } same)
            {
                throw Invalid($"Shards '{same.Name}' and '{name}' point at the same database {shard.Target}: every shard needs a database of its own.");
            }

            shards.Add(shard);
        }

        return new ShardSet(shards);
    }

    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 32 && char.IsAsciiLetterLower(name[0]) &&
        name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-');

    public override string ToString() => string.Join(", ", Shards);

    /// <summary>A setting that cannot work: the same exception as an options validator's, so hosts report it alike.</summary>
    private static OptionsValidationException Invalid(string message) => new(Microsoft.Extensions.Options.Options.DefaultName, typeof(ShardsStorageOptions), [message]);
}
