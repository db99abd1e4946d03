namespace Shards.Contracts;

/// <summary>
/// Names of the grain storage providers. Each service owns its own storage name so that it can
/// later live on databases of its own (y-axis); grains and hosts both use these constants.
/// </summary>
public static class StorageNames
{
    public const string Catalog = "catalog";
    public const string Carts = "carts";
    public const string Orders = "orders";
    public const string Payments = "payments";
    public const string PubSub = "PubSubStore";

    /// <summary>Every storage name a silo must register.</summary>
    public static readonly IReadOnlyList<string> All = [Catalog, Carts, Orders, Payments];
}
