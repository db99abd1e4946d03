using Shards.Storage;

namespace Shards.Grains.Carts;

/// <summary>
/// What the cart service stores per cart (the cart ID is the grain key): the lines in the order they were first
/// added and <see cref="Version"/>, the number of acknowledged writes. Treated as immutable: grains build a new
/// instance per change. Lines is an array so both the Orleans serializer and the storage JSON handle it as is.
/// </summary>
[GenerateSerializer, Alias("shards.CartState")]
public sealed class CartState : IRequestLoggedState
{
    [Id(0)]
    public CartLineState[] Lines { get; init; } = [];

    [Id(1)]
    public long Version { get; init; }

    // [Id(2)] held the last 64 applied request IDs before the request log (docs/exactly-once.md); never reuse it.

    /// <summary>The order checking this cart out (null when none): the cart refuses changes while it is set.</summary>
    [Id(3)]
    public string? CheckoutOrderId { get; init; }

    /// <summary>The last orders whose <c>purchased</c> emptied this cart, oldest first: a redelivery is recognised.</summary>
    [Id(4)]
    public string[] PurchasedOrders { get; init; } = [];

    // The exchange with the storage's request log (docs/exactly-once.md): never part of the stored state.
    [NonSerialized]
    private LoggedRequest? _applying;

    [NonSerialized]
    private IReadOnlyList<LoggedRequest>? _recent;

    LoggedRequest? IRequestLoggedState.Applying { get => _applying; set => _applying = value; }

    IReadOnlyList<LoggedRequest>? IRequestLoggedState.Recent { get => _recent; set => _recent = value; }
}

/// <summary>One stored cart line: the unit price is the product's price when the line was last added or set.</summary>
[GenerateSerializer, Alias("shards.CartLineState")]
public sealed class CartLineState
{
    [Id(0)]
    public string Sku { get; init; } = "";

    [Id(1)]
    public int Quantity { get; init; }

    [Id(2)]
    public decimal UnitPrice { get; init; }
}
