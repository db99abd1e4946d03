using System.Collections.Immutable;

namespace Shards.Domain.Carts;

/// <summary>
/// A shopping cart: lines keyed by SKU, in the order they were first added. Immutable: every change returns
/// a new cart (or this one when nothing changes), and a change that would break a rule throws
/// <see cref="DomainRuleException"/>.
/// </summary>
public sealed class Cart
{
    public const int MaxLines = 100;
    public const int MaxQuantityPerLine = 10_000;

    private readonly ImmutableList<CartLine> _lines;

    private Cart(string cartId, ImmutableList<CartLine> lines)
    {
        CartId = cartId;
        _lines = lines;
    }

    public string CartId { get; }

    public IReadOnlyList<CartLine> Lines => _lines;

    public bool IsEmpty => _lines.IsEmpty;

    /// <summary>The sum of the line totals (at most 100 x 10,000 x 1,000,000: no overflow).</summary>
    public decimal Total => _lines.Sum(line => line.LineTotal);

    /// <summary>A cart with no lines.</summary>
    public static Cart Empty(string cartId) => new(Identifiers.ValidateCartId(cartId), []);

    /// <summary>Rebuilds a cart from stored lines, checking every rule again.</summary>
    public static Cart Restore(string cartId, IEnumerable<CartLine> lines)
    {
        var cart = Empty(cartId);
        var restored = lines.ToImmutableList();
        if (restored.Count > MaxLines)
        {
            throw DomainRuleException.Validation($"Cart {cart.CartId} has {restored.Count} lines; a cart holds at most {MaxLines}.");
        }

        var duplicate = restored.GroupBy(line => line.Sku, StringComparer.Ordinal).FirstOrDefault(group => group.Count() > 1);
        if (duplicate is not null)
        {
            throw DomainRuleException.Validation($"Cart {cart.CartId} has more than one line for {duplicate.Key}.");
        }

        return new Cart(cart.CartId, restored);
    }

    /// <summary>The line for <paramref name="sku"/>, or null.</summary>
    public CartLine? Find(string sku) => _lines.Find(line => string.Equals(line.Sku, sku, StringComparison.Ordinal));

    /// <summary>
    /// Adds <paramref name="quantity"/> units of a product at its current <paramref name="unitPrice"/>. An existing
    /// line grows and takes the new price; a new line goes at the end.
    /// </summary>
    public Cart Add(string sku, int quantity, decimal unitPrice)
    {
        Identifiers.ValidateSku(sku);
        ValidateLineQuantity(quantity);
        var existing = Find(sku);
        if (existing is null)
        {
            RequireRoomForNewLine(sku);
            return new Cart(CartId, _lines.Add(CartLine.Create(sku, quantity, unitPrice)));
        }

        var total = (long)existing.Quantity + quantity;
        if (total > MaxQuantityPerLine)
        {
            throw DomainRuleException.Conflict(
                $"Cannot add {Text.Count(quantity)} of {sku} to cart {CartId}: the line already holds {Text.Count(existing.Quantity)} " +
                $"and a line holds at most {Text.Count(MaxQuantityPerLine)}. Nothing changed.");
        }

        return new Cart(CartId, _lines.Replace(existing, CartLine.Create(sku, (int)total, unitPrice)));
    }

    /// <summary>
    /// Sets a line's quantity at the product's current <paramref name="unitPrice"/>, adding the line if needed.
    /// Quantity 0 removes the line (and ignores the price); removing a line that is not there changes nothing.
    /// </summary>
    public Cart SetQuantity(string sku, int quantity, decimal unitPrice)
    {
        Identifiers.ValidateSku(sku);
        ValidateQuantityToSet(quantity);
        var existing = Find(sku);
        if (quantity == 0)
        {
            return existing is null ? this : new Cart(CartId, _lines.Remove(existing));
        }

        var line = CartLine.Create(sku, quantity, unitPrice);
        if (existing is null)
        {
            RequireRoomForNewLine(sku);
            return new Cart(CartId, _lines.Add(line));
        }

        return existing == line ? this : new Cart(CartId, _lines.Replace(existing, line));
    }

    /// <summary>Removes a line; NotFound when the cart has no line for <paramref name="sku"/>.</summary>
    public Cart Remove(string sku)
    {
        Identifiers.ValidateSku(sku);
        var existing = Find(sku)
            ?? throw DomainRuleException.NotFound($"Cart {CartId} has no line for {sku}. Nothing changed.");
        return new Cart(CartId, _lines.Remove(existing));
    }

    /// <summary>Removes every line (this cart when it is already empty).</summary>
    public Cart Clear() => IsEmpty ? this : new Cart(CartId, []);

    /// <summary>A quantity to add or hold on a line: 1 to <see cref="MaxQuantityPerLine"/>.</summary>
    public static int ValidateLineQuantity(int quantity)
    {
        if (quantity <= 0)
        {
            throw DomainRuleException.Validation($"Invalid quantity {Text.Count(quantity)}: a quantity must be at least 1.");
        }

        if (quantity > MaxQuantityPerLine)
        {
            throw DomainRuleException.Validation(
                $"Invalid quantity {Text.Count(quantity)}: a cart line holds at most {Text.Count(MaxQuantityPerLine)}.");
        }

        return quantity;
    }

    /// <summary>A quantity to set: 0 (remove the line) to <see cref="MaxQuantityPerLine"/>.</summary>
    public static int ValidateQuantityToSet(int quantity)
    {
        if (quantity < 0)
        {
            throw DomainRuleException.Validation(
                $"Invalid quantity {Text.Count(quantity)}: a quantity cannot be negative (use 0 to remove the line).");
        }

        return quantity == 0 ? 0 : ValidateLineQuantity(quantity);
    }

    private void RequireRoomForNewLine(string sku)
    {
        if (_lines.Count >= MaxLines)
        {
            throw DomainRuleException.Conflict(
                $"Cannot add {sku}: cart {CartId} already has {MaxLines} lines, the most a cart holds. Remove a line first. Nothing changed.");
        }
    }
}
