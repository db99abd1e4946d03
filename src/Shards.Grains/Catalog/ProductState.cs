using Shards.Storage;

namespace Shards.Grains.Catalog;

/// <summary>
/// What the catalog stores per product (the SKU is the grain key). <see cref="Version"/> counts acknowledged
/// writes: 0 means the product was never created. Treated as immutable: grains build a new instance per change.
/// Units are conserved: <see cref="Stock"/> (available) + <see cref="ReservedOutsideOrders"/> + the sum of
/// <see cref="Reservations"/> + <see cref="Sold"/> changes only by an upsert (the rules are the domain's <c>Product</c>).
/// New fields are only ever appended with the next [Id], so rows stored by an older version still load.
/// </summary>
[GenerateSerializer, Alias("shards.ProductState")]
public sealed class ProductState : IRequestLoggedState
{
    [Id(0)]
    public string Name { get; init; } = "";

    [Id(1)]
    public decimal Price { get; init; }

    [Id(2)]
    public int Stock { get; init; }

    [Id(3)]
    public long Version { get; init; }

    // [Id(4)] held the last 64 applied request IDs before the request log (docs/exactly-once.md); never reuse it.

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

    // The exchange with the storage's request log (docs/exactly-once.md): never part of the stored state.
    [NonSerialized]
    private LoggedRequest? _applying;

    [NonSerialized]
    private IReadOnlyList<LoggedRequest>? _recent;

    LoggedRequest? IRequestLoggedState.Applying { get => _applying; set => _applying = value; }

    IReadOnlyList<LoggedRequest>? IRequestLoggedState.Recent { get => _recent; set => _recent = value; }
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
