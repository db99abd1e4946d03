namespace Shards.Grains.Carts;

/// <summary>
/// What the cart service stores per cart (the cart ID is the grain key): the lines in the order they were first
/// added and <see cref="Version"/>, the number of acknowledged writes. Treated as immutable: grains build a new
/// instance per change. Lines is an array so both the Orleans serializer and the storage JSON handle it as is.
/// </summary>
[GenerateSerializer, Alias("shards.CartState")]
public sealed class CartState
{
    [Id(0)]
    public CartLineState[] Lines { get; init; } = [];

    [Id(1)]
    public long Version { get; init; }

    /// <summary>IDs of the last commands applied, stored with the change (see RequestDeduplication).</summary>
    [Id(2)]
    public Guid[] AppliedRequests { get; init; } = [];

    /// <summary>The order checking this cart out (null when none): the cart refuses changes while it is set.</summary>
    [Id(3)]
    public string? CheckoutOrderId { get; init; }

    /// <summary>The last orders whose <c>purchased</c> emptied this cart, oldest first: a redelivery is recognised.</summary>
    [Id(4)]
    public string[] PurchasedOrders { get; init; } = [];
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
