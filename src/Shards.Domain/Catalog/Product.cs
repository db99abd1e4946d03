namespace Shards.Domain.Catalog;

/// <summary>
/// A product in the catalog. Immutable: every change returns a new instance, and a change that would break a
/// rule throws <see cref="DomainRuleException"/> and leaves the product as it was.
/// </summary>
public sealed record Product
{
    public const int MaxNameLength = 200;
    public const int MaxStock = 1_000_000_000;

    private Product(string sku, string name, decimal price, int stock)
    {
        Sku = sku;
        Name = name;
        Price = price;
        Stock = stock;
    }

    public string Sku { get; }

    public string Name { get; }

    public decimal Price { get; }

    public int Stock { get; }

    /// <summary>A new product; every field is checked.</summary>
    public static Product Create(string sku, string name, decimal price, int stock) =>
        new(Identifiers.ValidateSku(sku), ValidateName(name), Prices.Validate(price), ValidateStock(stock));

    /// <summary>The same product with a new name, price and stock; this instance when nothing differs.</summary>
    public Product Update(string name, decimal price, int stock)
    {
        var updated = Create(Sku, name, price, stock);
        return updated == this ? this : updated;
    }

    /// <summary>Takes <paramref name="quantity"/> units out of stock; Conflict when fewer are left.</summary>
    public Product Reserve(int quantity)
    {
        RequirePositive(quantity, "reserve");
        if (quantity > Stock)
        {
            throw DomainRuleException.Conflict(
                $"Cannot reserve {Text.Count(quantity)} of {Sku}: only {Text.Count(Stock)} in stock. Nothing was reserved.");
        }

        return new Product(Sku, Name, Price, Stock - quantity);
    }

    /// <summary>Puts <paramref name="quantity"/> units back into stock; Conflict when stock would pass the maximum.</summary>
    public Product Release(int quantity)
    {
        RequirePositive(quantity, "release");
        var stock = (long)Stock + quantity;
        if (stock > MaxStock)
        {
            throw DomainRuleException.Conflict(
                $"Cannot release {Text.Count(quantity)} of {Sku}: stock would be {Text.Count(stock)}, more than the maximum {Text.Count(MaxStock)}. Nothing was released.");
        }

        return new Product(Sku, Name, Price, checked((int)stock));
    }

    private static string ValidateName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw DomainRuleException.Validation("Invalid product name: a name cannot be empty or blank.");
        }

        if (name.Length > MaxNameLength)
        {
            throw DomainRuleException.Validation(
                $"Invalid product name: it is {name.Length} characters long; a name is at most {MaxNameLength}.");
        }

        if (name.Any(char.IsControl))
        {
            throw DomainRuleException.Validation(
                $"Invalid product name {Text.Quote(name)}: it contains control characters (tabs, line breaks...).");
        }

        return name;
    }

    private static int ValidateStock(int stock)
    {
        if (stock < 0)
        {
            throw DomainRuleException.Validation($"Invalid stock {Text.Count(stock)}: stock cannot be negative.");
        }

        if (stock > MaxStock)
        {
            throw DomainRuleException.Validation($"Invalid stock {Text.Count(stock)}: stock is at most {Text.Count(MaxStock)}.");
        }

        return stock;
    }

    private static void RequirePositive(int quantity, string verb)
    {
        if (quantity <= 0)
        {
            throw DomainRuleException.Validation(
                $"Invalid quantity {Text.Count(quantity)}: the quantity to {verb} must be at least 1.");
        }
    }
}
