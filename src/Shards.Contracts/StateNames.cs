namespace Shards.Contracts;

/// <summary>
/// The names of the grains' persistent states. A state name is part of the stored record's identity: Orleans'
/// ADO.NET storage keys a row by service, state name and grain key, not by grain class or storage name. Every
/// grain type has its own, so product X and cart X never share a row. Never rename one: stored state would be orphaned.
/// </summary>
public static class StateNames
{
    public const string Product = "product";
    public const string Cart = "cart";
    public const string Order = "order";
    public const string Payment = "payment";

    /// <summary>
    /// The grain type ([GrainType]) that owns each state. A stored row names its state and key but not its grain type,
    /// and the shard router hashes the grain id (<c>type/key</c>), so resharding needs this to place a row. A state
    /// missing here makes <c>shards reshard</c> refuse (nothing moves) instead of guessing.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> GrainTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [Product] = "product",
        [Cart] = "cart",
        [Order] = "checkout",
        [Payment] = "payment",
    };
}
