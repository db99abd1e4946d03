using System.Text.Json.Serialization;
using Shards.Domain.Sharding;

namespace Shards.Hosting.Sharding;

/// <summary>Where one shard's database is, as the shard map stores it: never credentials.</summary>
public sealed record ShardLocation(string Name, string Host, int Port, string Database)
{
    /// <summary>host:port/database.</summary>
    [JsonIgnore]
    public string Target => $"{Host}:{Port}/{Database}";
}

/// <summary>The content of one shard map version (stored as jsonb in <c>shards_shard_map.map</c>).</summary>
/// <param name="Algorithm">How keys are placed; only <see cref="ShardRouter.Algorithm"/> exists.</param>
/// <param name="VirtualNodes">Ring points per shard; fixed for the life of a map.</param>
/// <param name="Shards">The shards, in the order they were configured (the ring does not depend on it).</param>
public sealed record ShardMapDocument(string Algorithm, int VirtualNodes, IReadOnlyList<ShardLocation> Shards)
{
    /// <summary>The first map of a service: the shards a silo is configured with.</summary>
    public static ShardMapDocument For(ShardSet shards) =>
        new(ShardRouter.Algorithm, ShardRouter.DefaultVirtualNodes, shards.Shards.Select(s => s.Location()).ToList());

    public IEnumerable<string> Names => Shards.Select(s => s.Name);

    public ShardLocation? Find(string name) => Shards.FirstOrDefault(s => s.Name == name);

    /// <summary>The ring this map describes; throws for an algorithm this build does not know.</summary>
    public ShardRouter CreateRouter() => Algorithm == ShardRouter.Algorithm
        ? new ShardRouter(Names, VirtualNodes)
        : throw new InvalidOperationException($"Unknown shard map algorithm '{Algorithm}' (this build knows '{ShardRouter.Algorithm}').");
}

/// <summary>One version of a service's shard map.</summary>
public sealed record ShardMap(string ServiceId, int Version, DateTimeOffset CreatedAt, ShardMapDocument Document)
{
    /// <summary>
    /// Why a silo configured with <paramref name="configured"/> cannot route with this map, or null when it can:
    /// every shard of the map must be configured (the database's identity is checked separately). Configured shards
    /// the map does not name are allowed (a resharding rolls their connection strings out before it adds them).
    /// </summary>
    public string? ProblemFor(ShardSet configured)
    {
        if (Document.Algorithm != ShardRouter.Algorithm)
        {
            return $"shard map version {Version} of service '{ServiceId}' uses algorithm '{Document.Algorithm}', which this build does not know";
        }

        var missing = Document.Names.Where(name => configured.Find(name) is null).ToList();
        return missing.Count == 0
            ? null
            : $"shard map version {Version} of service '{ServiceId}' has shards {string.Join(", ", Document.Names)}, " +
              $"but this silo has no connection string for {string.Join(", ", missing)} (configured: {string.Join(", ", configured.Names)})";
    }

    public override string ToString() => $"version {Version} ({string.Join(", ", Document.Shards.Select(s => $"{s.Name} {s.Target}"))})";
}
