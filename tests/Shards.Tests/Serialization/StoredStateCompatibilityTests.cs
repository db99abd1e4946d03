using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Shards.Contracts.Orders;
using Shards.Grains.Catalog;
using Shards.Grains.Orders;

namespace Shards.Tests.Serialization;

/// <summary>
/// Rows stored by an older version still load: a state type only ever gains fields with new [Id]s, and a field the
/// old row does not have takes its default. The old shapes below are the states as they were stored before.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class StoredStateCompatibilityTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(ProductState).Assembly).AddAssembly(typeof(StoredStateCompatibilityTests).Assembly))
        .BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    [Fact]
    public void A_product_stored_before_manual_reservations_were_tracked_loads_with_none()
    {
        var old = new ProductStateBeforeManualReservations
        {
            Name = "Widget", Price = 2.50m, Stock = 7, Version = 4, Reservations = [new OrderReservation { OrderId = "order-1", Quantity = 3 }], Sold = 5, SettledOrders = ["order-0"],
        };

        var loaded = Reload<ProductStateBeforeManualReservations, ProductState>(old);

        Assert.Equal(("Widget", 2.50m, 7, 4L, 5L, 0), (loaded.Name, loaded.Price, loaded.Stock, loaded.Version, loaded.Sold, loaded.ReservedOutsideOrders));
        Assert.Equal(("order-1", 3), (Assert.Single(loaded.Reservations).OrderId, loaded.Reservations[0].Quantity));
        Assert.Equal(["order-0"], loaded.SettledOrders);
    }

    [Fact]
    public void An_order_stored_before_undo_failures_were_recorded_loads_with_none()
    {
        var old = new OrderStateBeforeUndoFailures { Stage = CheckoutStage.Compensating, CartId = "cart-1", PaymentRequested = true, FailureReason = "declined" };

        var loaded = Reload<OrderStateBeforeUndoFailures, OrderState>(old);

        Assert.Equal((CheckoutStage.Compensating, "cart-1", true, "declined"), (loaded.Stage, loaded.CartId, loaded.PaymentRequested, loaded.FailureReason));
        Assert.Empty(loaded.UndoFailed);
    }

    /// <summary>Writes <paramref name="old"/> the way grain storage does (the state type is the expected type) and reads it back as the current type.</summary>
    private TNew Reload<TOld, TNew>(TOld old)
    {
        var serializer = _services.GetRequiredService<Serializer>();
        return serializer.Deserialize<TNew>(serializer.SerializeToArray(old))!;
    }
}

/// <summary><c>ProductState</c> as stored before [Id(8)] ReservedOutsideOrders.</summary>
[GenerateSerializer, Alias("shards.tests.ProductStateBeforeManualReservations")]
public sealed class ProductStateBeforeManualReservations
{
    [Id(0)] public string Name { get; init; } = "";
    [Id(1)] public decimal Price { get; init; }
    [Id(2)] public int Stock { get; init; }
    [Id(3)] public long Version { get; init; }
    [Id(4)] public Guid[] AppliedRequests { get; init; } = [];
    [Id(5)] public OrderReservation[] Reservations { get; init; } = [];
    [Id(6)] public long Sold { get; init; }
    [Id(7)] public string[] SettledOrders { get; init; } = [];
}

/// <summary><c>OrderState</c> as stored before [Id(14)] UndoFailed (the fields this test sets).</summary>
[GenerateSerializer, Alias("shards.tests.OrderStateBeforeUndoFailures")]
public sealed record OrderStateBeforeUndoFailures
{
    [Id(0)] public CheckoutStage Stage { get; init; }
    [Id(1)] public string CartId { get; init; } = "";
    [Id(6)] public bool PaymentRequested { get; init; }
    [Id(7)] public string? FailureReason { get; init; }
}
