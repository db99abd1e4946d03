using Shards.Domain.Catalog;

namespace Shards.Domain.Carts;

/// <summary>One line of a cart: a quantity of one product at the unit price it had when the line last changed.</summary>
public sealed record CartLine
{
    private CartLine(string sku, int quantity, decimal unitPrice)
    {
        Sku = sku;
        Quantity = quantity;
        UnitPrice = unitPrice;
    }

    public string Sku { get; }

    public int Quantity { get; }

    public decimal UnitPrice { get; }

    /// <summary>Quantity times unit price (at most 10,000 x 1,000,000, so it cannot overflow).</summary>
    public decimal LineTotal => Quantity * UnitPrice;

    /// <summary>A checked line: valid SKU, quantity 1 to <see cref="Cart.MaxQuantityPerLine"/>, valid price.</summary>
    public static CartLine Create(string sku, int quantity, decimal unitPrice) =>
        new(Identifiers.ValidateSku(sku), Cart.ValidateLineQuantity(quantity), Prices.Validate(unitPrice));
}
