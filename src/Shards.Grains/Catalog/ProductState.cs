namespace Shards.Grains.Catalog;

/// <summary>
/// What the catalog stores per product (the SKU is the grain key). <see cref="Version"/> counts acknowledged
/// writes: 0 means the product was never created. Treated as immutable: grains build a new instance per change.
/// Units are conserved: <see cref="Stock"/> (available) + <see cref="ReservedOutsideOrders"/> + the sum of
/// <see cref="Reservations"/> + <see cref="Sold"/> changes only by an upsert (the rules are the domain's <c>Product</c>).
/// New fields are only ever appended with the next [Id], so rows stored by an older version still load.
/// </summary>
[GenerateSerializer, Alias("shards.ProductState")]
public sealed class ProductState
{
    [Id(0)]
    public string Name { get; init; } = "";

    [Id(1)]
    public decimal Price { get; init; }

    [Id(2)]
    public int Stock { get; init; }

    [Id(3)]
    public long Version { get; init; }

    /// <summary>IDs of the last commands applied, stored with the change (see RequestDeduplication).</summary>
    [Id(4)]
    public Guid[] AppliedRequests { get; init; } = [];

    /// <summary>Units held by unfinished orders, one entry per order.</summary>
    [Id(5)]
    public OrderReservation[] Reservations { get; init; } = [];

    /// <summary>Units sold: reservations turned into sales by <c>purchased</c>.</summary>
    [Id(6)]
    public long Sold { get; init; }

    /// <summary>The last orders whose reservation was sold or released: a late repeat of their reserve changes nothing.</summary>
    [Id(7)]
    public string[] SettledOrders { get; init; } = [];

    /// <summary>Units taken out of stock by the manual reserve command (0 in rows stored before it was tracked).</summary>
    [Id(8)]
    public int ReservedOutsideOrders { get; init; }
}

/// <summary>Units of a product held for one order.</summary>
[GenerateSerializer, Alias("shards.OrderReservation")]
public sealed class OrderReservation
{
    [Id(0)]
    public string OrderId { get; init; } = "";

    [Id(1)]
    public int Quantity { get; init; }
}
