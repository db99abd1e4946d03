using System.Collections.Immutable;

namespace Shards.Domain.Catalog;

/// <summary>
/// A product in the catalog and where its units are. Immutable: every change returns a new instance (or this one
/// when nothing changes), and a change that would break a rule throws <see cref="DomainRuleException"/> and leaves
/// the product as it was.
/// </summary>
/// <remarks>
/// Every unit is in exactly one place: available (<see cref="Stock"/>), reserved outside any order (the manual
/// reserve/release commands, <see cref="ReservedOutsideOrders"/>), reserved for an unfinished order
/// (<see cref="Reservations"/>), or <see cref="Sold"/>. Every operation keeps one invariant: every amount is 0 or
/// more, <see cref="Stock"/> + <see cref="Reserved"/> is at most <see cref="MaxStock"/>, and the total
/// (<see cref="Units"/>) changes only by <see cref="Update"/>, which sets the available stock. Reserving moves units
/// out of stock; releasing moves back only units that were reserved, so a release never finds the stock full.
/// </remarks>
public sealed class Product
{
    public const int MaxNameLength = 200;
    public const int MaxStock = 1_000_000_000;

    private readonly ImmutableSortedDictionary<string, int> _reservations;

    private Product(
        string sku, string name, decimal price, int stock, int reservedOutsideOrders, ImmutableSortedDictionary<string, int> reservations, long sold)
    {
        Sku = sku;
        Name = name;
        Price = price;
        Stock = stock;
        ReservedOutsideOrders = reservedOutsideOrders;
        _reservations = reservations;
        ReservedForOrders = checked((int)reservations.Values.Sum(q => (long)q));
        Sold = sold;
    }

    public string Sku { get; }

    public string Name { get; }

    public decimal Price { get; }

    /// <summary>Units available: neither reserved nor sold.</summary>
    public int Stock { get; }

    /// <summary>Units taken out of stock by the manual reserve command: all that the manual release can give back.</summary>
    public int ReservedOutsideOrders { get; }

    /// <summary>Units held for unfinished orders, by order ID.</summary>
    public IReadOnlyDictionary<string, int> Reservations => _reservations;

    /// <summary>The sum of <see cref="Reservations"/>.</summary>
    public int ReservedForOrders { get; }

    /// <summary>Every reserved unit: outside orders and for orders.</summary>
    public int Reserved => ReservedOutsideOrders + ReservedForOrders;

    /// <summary>Units sold: order reservations turned into sales.</summary>
    public long Sold { get; }

    /// <summary>Every unit of the product: available, reserved and sold. Only <see cref="Update"/> changes it.</summary>
    public long Units => (long)Stock + Reserved + Sold;

    /// <summary>A new product, with nothing reserved or sold; every field is checked.</summary>
    public static Product Create(string sku, string name, decimal price, int stock) =>
        new(Identifiers.ValidateSku(sku), ValidateName(name), Prices.Validate(price), ValidateStock(stock), 0, ImmutableSortedDictionary<string, int>.Empty.WithComparers(StringComparer.Ordinal), 0);

    /// <summary>
    /// Rebuilds a stored product, checking every field again. A product stored before stock + reserved was bounded
    /// may hold more than <see cref="MaxStock"/> in both together: it is accepted, and releasing an order's
    /// reservation is then refused if it would put more than <see cref="MaxStock"/> units in stock.
    /// </summary>
    public static Product Restore(
        string sku, string name, decimal price, int stock, int reservedOutsideOrders, IEnumerable<KeyValuePair<string, int>> reservations, long sold)
    {
        var product = Create(sku, name, price, stock);
        var byOrder = ImmutableSortedDictionary.CreateBuilder<string, int>(StringComparer.Ordinal);
        foreach (var (orderId, quantity) in reservations)
        {
            Identifiers.ValidateOrderId(orderId);
            if (quantity <= 0 || !byOrder.TryAdd(orderId, quantity))
            {
                throw DomainRuleException.Validation(
                    $"Product {product.Sku} is stored with a bad reservation for order {orderId} ({Text.Count(quantity)} units, or a second one); fix the stored row.");
            }
        }

        var reserved = (long)reservedOutsideOrders + byOrder.Values.Sum(q => (long)q);
        if (reservedOutsideOrders < 0 || sold < 0 || reserved > MaxStock)
        {
            throw DomainRuleException.Validation(
                $"Product {product.Sku} is stored with {Text.Count(reservedOutsideOrders)} units reserved outside orders, {Text.Count(reserved)} reserved in all and {Text.Count(sold)} sold; reserved must be between 0 and {Text.Count(MaxStock)}, sold 0 or more. Fix the stored row.");
        }

        return new Product(product.Sku, product.Name, product.Price, product.Stock, reservedOutsideOrders, byOrder.ToImmutable(), sold);
    }

    /// <summary>
    /// The same product with a new name, price and available stock; this instance when nothing differs. Conflict when
    /// the stock plus the units reserved would pass <see cref="MaxStock"/>.
    /// </summary>
    public Product Update(string name, decimal price, int stock)
    {
        var checkedFields = Create(Sku, name, price, stock);
        if (checkedFields.Name == Name && checkedFields.Price == Price && stock == Stock)
        {
            return this;
        }

        if ((long)stock + Reserved > MaxStock)
        {
            throw DomainRuleException.Conflict(
                $"Cannot set the stock of {Sku} to {Text.Count(stock)}: {Text.Count(Reserved)} units are reserved, and stock + reserved is at most {Text.Count(MaxStock)}. Nothing was changed; set at most {Text.Count(MaxStock - Reserved)}.");
        }

        return With(name: checkedFields.Name, price: checkedFields.Price, stock: stock);
    }

    /// <summary>Takes <paramref name="quantity"/> units out of stock outside any order; Conflict when fewer are available.</summary>
    public Product Reserve(int quantity)
    {
        RequirePositive(quantity, "reserve");
        RequireAvailable(quantity);
        return With(stock: Stock - quantity, reservedOutsideOrders: ReservedOutsideOrders + quantity);
    }

    /// <summary>
    /// Puts back <paramref name="quantity"/> of the units reserved outside orders; Conflict when fewer are reserved
    /// outside orders (units held by an order go back only when that order fails).
    /// </summary>
    public Product Release(int quantity)
    {
        RequirePositive(quantity, "release");
        if (quantity > ReservedOutsideOrders)
        {
            throw DomainRuleException.Conflict(
                $"Cannot release {Text.Count(quantity)} of {Sku}: only {Text.Count(ReservedOutsideOrders)} units are reserved outside orders; nothing was released. Units held by orders go back when their checkout fails.");
        }

        return With(stock: Stock + quantity, reservedOutsideOrders: ReservedOutsideOrders - quantity);
    }

    /// <summary>
    /// Holds <paramref name="quantity"/> units for order <paramref name="orderId"/>; Conflict when fewer are
    /// available. Once per order: this instance when the order already holds a reservation.
    /// </summary>
    public Product ReserveForOrder(string orderId, int quantity)
    {
        Identifiers.ValidateOrderId(orderId);
        if (_reservations.ContainsKey(orderId))
        {
            return this;
        }

        RequirePositive(quantity, "reserve");
        RequireAvailable(quantity);
        return With(stock: Stock - quantity, reservations: _reservations.Add(orderId, quantity));
    }

    /// <summary>Puts order <paramref name="orderId"/>'s reservation back into stock; this instance when it holds none.</summary>
    public Product ReleaseOrder(string orderId)
    {
        Identifiers.ValidateOrderId(orderId);
        if (!_reservations.TryGetValue(orderId, out var quantity))
        {
            return this;
        }

        var stock = (long)Stock + quantity;
        if (stock > MaxStock)
        {
            // Only a product stored before stock + reserved was bounded can get here.
            throw DomainRuleException.Conflict(
                $"Cannot release order {orderId}'s {Text.Count(quantity)} of {Sku}: stock would be {Text.Count(stock)}, more than the maximum {Text.Count(MaxStock)}. Lower the stock with an upsert first.");
        }

        return With(stock: (int)stock, reservations: _reservations.Remove(orderId));
    }

    /// <summary>Order <paramref name="orderId"/>'s reservation becomes sold units; this instance when it holds none.</summary>
    public Product Sell(string orderId)
    {
        Identifiers.ValidateOrderId(orderId);
        return _reservations.TryGetValue(orderId, out var quantity)
            ? With(reservations: _reservations.Remove(orderId), sold: Sold + quantity)
            : this;
    }

    private Product With(
        string? name = null, decimal? price = null, int? stock = null, int? reservedOutsideOrders = null, ImmutableSortedDictionary<string, int>? reservations = null, long? sold = null) =>
        new(Sku, name ?? Name, price ?? Price, stock ?? Stock, reservedOutsideOrders ?? ReservedOutsideOrders, reservations ?? _reservations, sold ?? Sold);

    private void RequireAvailable(int quantity)
    {
        if (quantity > Stock)
        {
            throw DomainRuleException.Conflict(
                $"Cannot reserve {Text.Count(quantity)} of {Sku}: only {Text.Count(Stock)} in stock. Nothing was reserved.");
        }
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
