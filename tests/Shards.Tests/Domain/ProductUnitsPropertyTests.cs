using Shards.Domain;
using Shards.Domain.Catalog;

namespace Shards.Tests.Domain;

/// <summary>
/// A property test of the product's unit accounting: seeded random sequences of create/upsert, reserve, release,
/// reserve for an order, release an order and sell (purchased), with quantities around every boundary. After every
/// step: an operation is refused exactly when a simple model says it must be, a refused one changed nothing, an
/// accepted one moved exactly the units the model moved, and the invariant holds (every amount 0 or more,
/// stock + reserved at most the maximum, units conserved except by an upsert).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ProductUnitsPropertyTests
{
    private const int Sequences = 400;
    private const int StepsPerSequence = 250;
    private static readonly string[] Orders = ["order-1", "order-2", "order-3", "order-4", "order-5"];

    /// <summary>Where a product's units are, as plain values (compared before and after each step).</summary>
    private sealed record Units(int Stock, int OutsideOrders, string Reservations, long Sold)
    {
        public static Units Of(Product product) => new(
            product.Stock, product.ReservedOutsideOrders, string.Join(",", product.Reservations.Select(r => $"{r.Key}={r.Value}")), product.Sold);
    }

    [Fact]
    public void Random_operation_sequences_keep_the_units_invariant_at_every_step()
    {
        var accepted = new Dictionary<string, int>();
        var refused = new Dictionary<string, int>();
        for (var seed = 0; seed < Sequences; seed++)
        {
            var random = new Random(seed);
            Product? product = null;
            for (var step = 0; step < StepsPerSequence; step++)
            {
                var operation = NextOperation(random, product);
                var before = product is null ? null : Units.Of(product);
                var expected = Model(operation, product);
                Product? after;
                try
                {
                    after = operation.Apply(product);
                }
                catch (DomainRuleException error)
                {
                    Assert.True(expected is null, $"seed {seed}, step {step}: {operation} was refused ({error.Message}) but the model accepts it");
                    Assert.Equal(before, product is null ? null : Units.Of(product)); // a refusal changed nothing
                    refused[operation.Name] = refused.GetValueOrDefault(operation.Name) + 1;
                    continue;
                }

                Assert.True(expected is not null, $"seed {seed}, step {step}: {operation} was accepted but the model refuses it");
                Assert.Equal(expected, Units.Of(after));
                CheckInvariant(after, $"seed {seed}, step {step}: after {operation}");
                if (product is not null && operation.Name != "upsert")
                {
                    Assert.Equal(product.Units, after.Units); // only an upsert changes stock + reserved + sold
                }

                accepted[operation.Name] = accepted.GetValueOrDefault(operation.Name) + 1;
                product = after;
            }
        }

        // The generator reaches every operation, accepted and refused (else the property proves little).
        foreach (var name in new[] { "upsert", "reserve", "release", "reserve-for-order" })
        {
            Assert.True(accepted.GetValueOrDefault(name) > 100 && refused.GetValueOrDefault(name) > 100, $"{name}: {accepted.GetValueOrDefault(name)} accepted, {refused.GetValueOrDefault(name)} refused");
        }

        Assert.True(accepted.GetValueOrDefault("release-order") > 100 && accepted.GetValueOrDefault("sell") > 100);
    }

    private static void CheckInvariant(Product product, string where)
    {
        Assert.True(product.Stock >= 0, $"{where}: stock {product.Stock}");
        Assert.True(product.ReservedOutsideOrders >= 0, $"{where}: reserved outside orders {product.ReservedOutsideOrders}");
        Assert.All(product.Reservations.Values, quantity => Assert.True(quantity > 0, $"{where}: a reservation of {quantity}"));
        Assert.Equal(product.ReservedOutsideOrders + product.Reservations.Values.Sum(), product.Reserved);
        Assert.True(product.Sold >= 0, $"{where}: sold {product.Sold}");
        Assert.True((long)product.Stock + product.Reserved <= Product.MaxStock, $"{where}: stock {product.Stock} + reserved {product.Reserved}");
    }

    /// <summary>What the units must be after <paramref name="operation"/>; null when it must be refused.</summary>
    private static Units? Model(Operation operation, Product? product)
    {
        if (product is null)
        {
            return operation.Name == "upsert" && operation.Quantity is >= 0 and <= Product.MaxStock ? new Units(operation.Quantity, 0, "", 0) : null;
        }

        var units = Units.Of(product);
        var held = product.Reservations.GetValueOrDefault(operation.OrderId);
        return operation.Name switch
        {
            "upsert" when operation.Quantity == product.Stock => units,
            "upsert" => operation.Quantity >= 0 && (long)operation.Quantity + product.Reserved <= Product.MaxStock ? units with { Stock = operation.Quantity } : null,
            "reserve" => operation.Quantity >= 1 && operation.Quantity <= product.Stock
                ? units with { Stock = product.Stock - operation.Quantity, OutsideOrders = product.ReservedOutsideOrders + operation.Quantity }
                : null,
            "release" => operation.Quantity >= 1 && operation.Quantity <= product.ReservedOutsideOrders
                ? units with { Stock = product.Stock + operation.Quantity, OutsideOrders = product.ReservedOutsideOrders - operation.Quantity }
                : null,
            "reserve-for-order" when held > 0 => units,
            "reserve-for-order" => operation.Quantity >= 1 && operation.Quantity <= product.Stock
                ? units with { Stock = product.Stock - operation.Quantity, Reservations = Reservations(product, operation.OrderId, operation.Quantity) }
                : null,
            "release-order" => units with { Stock = product.Stock + held, Reservations = Reservations(product, operation.OrderId, 0) },
            "sell" => units with { Reservations = Reservations(product, operation.OrderId, 0), Sold = product.Sold + held },
            _ => throw new InvalidOperationException(operation.Name),
        };
    }

    private static string Reservations(Product product, string orderId, int quantity)
    {
        var next = new SortedDictionary<string, int>(product.Reservations.ToDictionary(), StringComparer.Ordinal);
        if (quantity == 0)
        {
            next.Remove(orderId);
        }
        else
        {
            next[orderId] = quantity;
        }

        return string.Join(",", next.Select(r => $"{r.Key}={r.Value}"));
    }

    private static Operation NextOperation(Random random, Product? product)
    {
        var orderId = Orders[random.Next(Orders.Length)];
        var name = product is null ? "upsert" : random.Next(6) switch
        {
            0 => "upsert",
            1 => "reserve",
            2 => "release",
            3 => "reserve-for-order",
            4 => "release-order",
            _ => "sell",
        };
        var quantity = name == "upsert" ? StockValue(random, product) : QuantityValue(random, product);
        return new Operation(name, orderId, quantity);
    }

    /// <summary>A stock for an upsert: small, at or near the maximum (where stock + reserved passes it), or invalid.</summary>
    private static int StockValue(Random random, Product? product) => random.Next(8) switch
    {
        0 => 0,
        1 => Product.MaxStock,
        2 => Product.MaxStock - (product?.Reserved ?? 0) + random.Next(-2, 3),
        3 => random.Next(-3, 0),
        4 => product?.Stock ?? 0,
        _ => random.Next(0, 60),
    };

    /// <summary>A quantity: mostly small, sometimes exactly what is there (or one more), huge, or not positive.</summary>
    private static int QuantityValue(Random random, Product? product) => random.Next(10) switch
    {
        0 => random.Next(-2, 1),
        1 => int.MaxValue,
        2 => (product?.Stock ?? 0) + random.Next(0, 2),
        3 => (product?.ReservedOutsideOrders ?? 0) + random.Next(0, 2),
        4 => random.Next(1, Product.MaxStock),
        _ => random.Next(1, 20),
    };

    private sealed record Operation(string Name, string OrderId, int Quantity)
    {
        public Product Apply(Product? product) => Name switch
        {
            "upsert" => product is null ? Product.Create("sku-prop", "Widget", 2m, Quantity) : product.Update("Widget", 2m, Quantity),
            "reserve" => product!.Reserve(Quantity),
            "release" => product!.Release(Quantity),
            "reserve-for-order" => product!.ReserveForOrder(OrderId, Quantity),
            "release-order" => product!.ReleaseOrder(OrderId),
            "sell" => product!.Sell(OrderId),
            _ => throw new InvalidOperationException(Name),
        };

        public override string ToString() => Name switch
        {
            "release-order" or "sell" => $"{Name}({OrderId})",
            "reserve-for-order" => $"{Name}({OrderId}, {Quantity})",
            _ => $"{Name}({Quantity})",
        };
    }
}
