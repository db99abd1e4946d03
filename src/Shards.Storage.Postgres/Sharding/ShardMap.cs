using System.Text.Json.Serialization;
using Shards.Hashing;

namespace Shards.Storage.Postgres.Sharding;

/// <summary>Where one shard's database is, as the shard map stores it: never credentials.</summary>
public sealed record ShardLocation(string Name, string Host, int Port, string Database)
{
    /// <summary>host:port/database.</summary>
    [JsonIgnore]
    public string Target => $"{Host}:{Port}/{Database}";
}

/// <summary>The content of one shard map version (stored as jsonb in <c>shards_shard_map.map</c>).</summary>
/// <param name="Algorithm">How keys are placed: <see cref="ShardRouter.Algorithm"/>, or <see cref="MovingAlgorithm"/> while a resharding moves keys.</param>
/// <param name="VirtualNodes">Ring points per shard; fixed for the life of a map.</param>
/// <param name="Shards">The shards, in the order they were configured (the ring does not depend on it).</param>
/// <param name="Target">
/// Only in a moving map: the shards of the ring the keys are moving to. A key whose owner is the same on both
/// rings is routed as usual; a moving key's state is in its old shard until the resharding moved it, then in its new one
/// (docs/sharding.md, "Online resharding").
/// </param>
public sealed record ShardMapDocument(
    string Algorithm,
    int VirtualNodes,
    IReadOnlyList<ShardLocation> Shards,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ShardLocation>? Target = null)
{
    /// <summary>
    /// The algorithm name of a moving map. Builds that predate resharding do not know it, so they refuse to route
    /// with such a map (unknown algorithm) instead of misrouting a moving key.
    /// </summary>
    public const string MovingAlgorithm = ShardRouter.Algorithm + "+moving";

    /// <summary>The first map of a service: the shards a silo is configured with.</summary>
    public static ShardMapDocument For(ShardSet shards) =>
        new(ShardRouter.Algorithm, ShardRouter.DefaultVirtualNodes, shards.Shards.Select(s => s.Location()).ToList());

    public IEnumerable<string> Names => Shards.Select(s => s.Name);

    /// <summary>True while a resharding moves keys from <see cref="Shards"/> to <see cref="Target"/>.</summary>
    [JsonIgnore]
    public bool IsMoving => Algorithm == MovingAlgorithm;

    /// <summary>Every shard a silo needs to route with this map: the current ones and, while moving, the target ones.</summary>
    [JsonIgnore]
    public IReadOnlyList<ShardLocation> AllShards => Target is null ? Shards : Shards.Concat(Target.Where(t => Find(t.Name) is null)).ToList();

    public ShardLocation? Find(string name) => Shards.FirstOrDefault(s => s.Name == name);

    /// <summary>Why this build cannot route with this map, or null.</summary>
    public string? AlgorithmProblem() => Algorithm switch
    {
        ShardRouter.Algorithm when Target is null => null,
        MovingAlgorithm when Target is { Count: > 0 } => null,
        ShardRouter.Algorithm or MovingAlgorithm => $"algorithm '{Algorithm}' with {(Target is null ? "no" : "a")} target ring is malformed",
        _ => $"uses algorithm '{Algorithm}', which this build does not know (it knows '{ShardRouter.Algorithm}' and '{MovingAlgorithm}')",
    };

    /// <summary>The ring keys are routed by (while moving: the ring they move from); throws for an algorithm this build does not know.</summary>
    public ShardRouter CreateRouter() => AlgorithmProblem() is { } problem
        ? throw new InvalidOperationException($"Shard map {problem}.")
        : new ShardRouter(Names, VirtualNodes);

    /// <summary>While moving, the ring keys move to; else null.</summary>
    public ShardRouter? CreateTargetRouter() => IsMoving && Target is { } target ? new ShardRouter(target.Select(t => t.Name), VirtualNodes) : null;
}

/// <summary>One version of a service's shard map.</summary>
public sealed record ShardMap(string ServiceId, int Version, DateTimeOffset CreatedAt, ShardMapDocument Document)
{
    /// <summary>
    /// Why a silo configured with <paramref name="configured"/> cannot route with this map, or null when it can:
    /// every shard of the map must be configured (the database's identity is checked separately). Configured shards
    /// the map does not name are allowed (a resharding rolls their connection strings out before it adds them).
    /// </summary>
    public string? ProblemFor(ShardSet configured, Func<string, bool>? reachable = null)
    {
        if (Document.AlgorithmProblem() is { } algorithm)
        {
            return $"shard map version {Version} of service '{ServiceId}' {algorithm}";
        }

        var names = Document.AllShards.Select(s => s.Name).ToList();
        var missing = names.Where(name => configured.Find(name) is null && reachable?.Invoke(name) != true).ToList();
        return missing.Count == 0
            ? null
            : $"shard map version {Version} of service '{ServiceId}' has shards {string.Join(", ", names)}, " +
              $"but this silo has no connection string for {string.Join(", ", missing)} (configured: {string.Join(", ", configured.Names)})";
    }

    public override string ToString() => Document.Target is { } target
        ? $"version {Version} (moving from {Describe(Document.Shards)} to {Describe(target)})"
        : $"version {Version} ({Describe(Document.Shards)})";

    private static string Describe(IEnumerable<ShardLocation> shards) => string.Join(", ", shards.Select(s => $"{s.Name} {s.Target}"));
}
