using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Serialization;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Contracts.Events;
using Shards.Contracts.Listing;
using Shards.Contracts.Operations;
using Shards.Contracts.Orders;
using Shards.Contracts.Payments;
using Shards.Grains.Carts;
using Shards.Grains.Catalog;
using Shards.Grains.Orders;
using Shards.Grains.Payments;

namespace Shards.Tests.Serialization;

/// <summary>
/// Every type that crosses a grain call or goes into grain storage survives the Orleans serializer. Types are
/// discovered by reflection, so a new wire or state type fails here until it has a codec, an alias and a sample.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class WireTypeSerializationTests : IDisposable
{
    private static readonly Assembly[] ShardsAssemblies = [typeof(ProductSnapshot).Assembly, typeof(ProductState).Assembly];

    private static readonly DateTimeOffset SampleTime = new(2026, 11, 24, 23, 0, 0, TimeSpan.Zero);

    private static readonly PurchasedEvent SamplePurchased = new("purchased:order-1", "order-1", "cart-1", new[] { new PurchasedLine("sku-1", 3, 2.50m) }, SampleTime);

    private static readonly OrderView SampleOrder = new(
        "order-1", "cart-1", OrderStatus.Failed, CheckoutStage.Failed, new[] { new OrderLineView("sku-1", 3, 2.50m, 7.50m) }, 7.50m, "tok-decline",
        "the payment was declined", 0, new[] { new OrderStepView("compensated", "released 1 line(s)", SampleTime) }, SampleTime, SampleTime);

    /// <summary>One representative value per serialisable type (edge values where they matter: decimal scale, offsets).</summary>
    private static readonly Dictionary<Type, object> Samples = new()
    {
        [typeof(ProductDefinition)] = new ProductDefinition("Widget \u00e9\u00e8", 19.90m, 1_000_000_000),
        [typeof(ProductSnapshot)] = new ProductSnapshot("sku-1", "Widget", 1_000_000m, 0, long.MaxValue, Reserved: 4, Sold: 9, ReservedOutsideOrders: 1),
        [typeof(CartLineView)] = new CartLineView("sku-1", 10_000, 0.01m, 100m),
        [typeof(CartView)] = new CartView("cart-1", [new CartLineView("sku-1", 2, 1.50m, 3.00m), new CartLineView("sku-2", 1, 0m, 0m)], 3.00m, 7),
        [typeof(GrainLocation)] = new GrainLocation("product/sku-1", "S127.0.0.1:11111:123456789", "silo-1", new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.FromHours(2))),
        [typeof(ShardsErrorCode)] = ShardsErrorCode.StorageUnavailable,
        [typeof(ShardsException)] = new ShardsException(ShardsErrorCode.Conflict, "Cannot reserve 6 of sku-1: only 5 in stock."),
        [typeof(ProductState)] = new ProductState { Name = "Widget", Price = 19.99m, Stock = 5, Version = 3, Reservations = [new OrderReservation { OrderId = "order-1", Quantity = 2 }], Sold = 4, SettledOrders = ["order-0"], ReservedOutsideOrders = 3 },
        [typeof(CartLineState)] = new CartLineState { Sku = "sku-1", Quantity = 2, UnitPrice = 2.50m },
        [typeof(CartState)] = new CartState
        {
            Lines = [new CartLineState { Sku = "sku-1", Quantity = 2, UnitPrice = 2.50m }, new CartLineState { Sku = "b", Quantity = 1, UnitPrice = 0m }],
            Version = 2,
            CheckoutOrderId = "order-1",
            PurchasedOrders = ["order-0"],
        },
        [typeof(PurchasedLine)] = new PurchasedLine("sku-1", 3, 2.50m),
        [typeof(PurchasedEvent)] = SamplePurchased,
        [typeof(PaymentStatus)] = PaymentStatus.TimedOut,
        [typeof(PaymentView)] = new PaymentView("order-1", PaymentStatus.Approved, 12.30m, "sim-1", null),
        [typeof(OrderStatus)] = OrderStatus.Paid,
        [typeof(CheckoutStage)] = CheckoutStage.Compensating,
        [typeof(OrderLineView)] = new OrderLineView("sku-1", 3, 2.50m, 7.50m),
        [typeof(OrderStepView)] = new OrderStepView("paid", "payment sim-1 approved", SampleTime),
        [typeof(OrderView)] = SampleOrder,
        [typeof(CheckoutOutcome)] = new CheckoutOutcome(SampleOrder, Created: true),
        [typeof(PaymentState)] = new PaymentState { Status = PaymentStatus.Refunded, Amount = 7.50m, Reference = "sim-1", Reason = "timed out", UpdatedAt = SampleTime },
        [typeof(OrderReservation)] = new OrderReservation { OrderId = "order-1", Quantity = 3 },
        [typeof(OrderLineState)] = new OrderLineState { Sku = "sku-1", Quantity = 3, UnitPrice = 2.50m },
        [typeof(OrderStepState)] = new OrderStepState { Step = "reserved", Detail = "3 x sku-1", At = SampleTime },
        [typeof(DeliveryState)] = new DeliveryState
        {
            Subscription = "carts", GrainType = "cart", Key = "cart-1", Acknowledged = true, Attempts = 3, LastAttemptAt = SampleTime, AcknowledgedAt = SampleTime, LastError = "timed out",
        },
        [typeof(LeasedProduct)] = new LeasedProduct(new ProductSnapshot("sku-1", "Widget", 2m, 1, 3), TimeSpan.FromSeconds(1)),
        [typeof(ProductPage)] = new ProductPage([new ProductSnapshot("sku-1", "Widget", 2m, 1, 1)], "sku-1"),
        [typeof(CartPage)] = new CartPage([new CartView("cart-1", [], 0m, 1, "order-1", ["order-0"])], null),
        [typeof(OrderPage)] = new OrderPage([SampleOrder], "order-1"),
        [typeof(EventDeliveryView)] = new EventDeliveryView("catalog", "product/sku-1", false, 2, SampleTime, null, "ShardsException: storage unavailable"),
        [typeof(PurchasedEventView)] = new PurchasedEventView(
            "purchased:order-1", "order-1", "cart-1", SampleTime, 7.50m, 1, 1, [new EventDeliveryView("carts", "cart/cart-1", true, 1, SampleTime, SampleTime, null)]),
        [typeof(SiloCallCounts)] = new SiloCallCounts(SiloAddress.New(System.Net.IPAddress.Loopback, 11111, 123456789), 1_000_000_000_000, 3),
        [typeof(OrderState)] = new OrderState
        {
            Stage = CheckoutStage.Publishing,
            CartId = "cart-1",
            PaymentToken = "tok-visa",
            Lines = [new OrderLineState { Sku = "sku-1", Quantity = 3, UnitPrice = 2.50m }],
            Total = 7.50m,
            LinesReserved = 1,
            PaymentRequested = true,
            Steps = [new OrderStepState { Step = "paid", Detail = "approved", At = SampleTime }],
            Purchased = SamplePurchased,
            Deliveries = [new DeliveryState { Subscription = "catalog", GrainType = "product", Key = "sku-1" }],
            StartedBy = Guid.Parse("6f1c2d3e-0000-4000-8000-000000000001"),
            CreatedAt = SampleTime,
            UpdatedAt = SampleTime,
            UndoFailed = ["refund"],
        },
        [typeof(Shards.Placement.ConsistentHashPlacement)] = new Shards.Placement.ConsistentHashPlacement(),
    };

    private readonly ServiceProvider _services;
    private readonly Serializer _serializer;

    public WireTypeSerializationTests()
    {
        _services = new ServiceCollection()
            .AddSerializer(builder =>
            {
                foreach (var assembly in ShardsAssemblies)
                {
                    builder.AddAssembly(assembly);
                }
            })
            .BuildServiceProvider();
        _serializer = _services.GetRequiredService<Serializer>();
    }

    public static TheoryData<Type> SerializableTypes => [.. DiscoverSerializableTypes()];

    public void Dispose() => _services.Dispose();

    [Fact]
    public void The_discovery_finds_the_known_wire_and_state_types()
    {
        var types = DiscoverSerializableTypes();

        Assert.Contains(typeof(ProductSnapshot), types);
        Assert.Contains(typeof(ShardsException), types);
        Assert.Contains(typeof(ProductState), types);
        Assert.Contains(typeof(CartState), types);
    }

    [Fact]
    public void Every_serialisable_type_has_an_alias()
    {
        var missing = DiscoverSerializableTypes().Where(type => type.GetCustomAttribute<AliasAttribute>() is null).ToList();

        Assert.True(missing.Count == 0, $"Add [Alias(\"shards.Name\")] to: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Aliases_are_unique_and_in_the_shards_namespace()
    {
        var aliases = DiscoverSerializableTypes().Select(type => type.GetCustomAttribute<AliasAttribute>()?.Alias ?? "").ToList();

        Assert.All(aliases, alias => Assert.StartsWith("shards.", alias, StringComparison.Ordinal));
        Assert.Equal(aliases.Count, aliases.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Every_serialisable_type_has_a_sample_value()
    {
        var missing = DiscoverSerializableTypes().Where(type => !Samples.ContainsKey(type)).ToList();

        Assert.True(missing.Count == 0, $"Add a sample to {nameof(Samples)} for: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(SerializableTypes))]
    public void Every_serialisable_type_round_trips_through_the_Orleans_serializer(Type type)
    {
        Assert.True(_serializer.CanSerialize(type), $"No codec for {type}");
        var sample = Samples[type];

        var copy = typeof(WireTypeSerializationTests)
            .GetMethod(nameof(RoundTrip), BindingFlags.Instance | BindingFlags.NonPublic)!
            .MakeGenericMethod(type)
            .Invoke(this, [sample])!;

        Assert.IsType(type, copy);
        if (sample is Exception)
        {
            return; // Compared field by field in ShardsException_keeps_its_code_and_message.
        }

        Assert.Equal(JsonSerializer.Serialize(sample, type), JsonSerializer.Serialize(copy, type));
    }

    [Fact]
    public void ShardsException_keeps_its_code_and_message()
    {
        var original = new ShardsException(ShardsErrorCode.StorageUnavailable, "The product sku-1 could not be stored. Nothing changed.");

        var copy = RoundTrip(original);

        Assert.Equal(ShardsErrorCode.StorageUnavailable, copy.Code);
        Assert.Equal(original.Message, copy.Message);
    }

    [Fact]
    public void ShardsException_round_trips_as_an_Exception_too()
    {
        var copy = RoundTrip<Exception>(new ShardsException(ShardsErrorCode.NotFound, "There is no product with SKU x."));

        var shards = Assert.IsType<ShardsException>(copy);
        Assert.Equal(ShardsErrorCode.NotFound, shards.Code);
        Assert.Equal("There is no product with SKU x.", shards.Message);
    }

    [Fact]
    public void A_cart_view_with_a_list_of_lines_round_trips()
    {
        var view = new CartView("cart-1", new List<CartLineView> { new("sku-1", 1, 1m, 1m) }, 1m, 1);

        var copy = RoundTrip(view);

        Assert.Equal(view.Lines, copy.Lines);
    }

    [Fact]
    public void Every_type_in_a_grain_interface_has_a_codec()
    {
        var grainInterfaces = ShardsAssemblies.SelectMany(assembly => assembly.GetTypes())
            .Where(type => type.IsInterface && typeof(IGrain).IsAssignableFrom(type))
            .ToList();
        Assert.NotEmpty(grainInterfaces);

        var used = new HashSet<Type>();
        foreach (var method in grainInterfaces.SelectMany(type => type.GetMethods()))
        {
            Collect(method.ReturnType, used);
            // A CancellationToken parameter is not sent as a value: Orleans carries the cancellation itself.
            foreach (var parameter in method.GetParameters().Where(p => p.ParameterType != typeof(CancellationToken)))
            {
                Collect(parameter.ParameterType, used);
            }
        }

        var missing = used.Where(type => !type.IsInterface && !_serializer.CanSerialize(type)).ToList();
        Assert.True(missing.Count == 0, $"No codec (add [GenerateSerializer]) for: {string.Join(", ", missing)}");
        var ownWithoutSample = used.Where(type => ShardsAssemblies.Contains(type.Assembly) && !Samples.ContainsKey(type)).ToList();
        Assert.True(ownWithoutSample.Count == 0, $"Not covered by the round-trip test: {string.Join(", ", ownWithoutSample)}");
    }

    private T RoundTrip<T>(T value) => _serializer.Deserialize<T>(_serializer.SerializeToArray(value))!;

    private static List<Type> DiscoverSerializableTypes() => ShardsAssemblies
        .SelectMany(assembly => assembly.GetTypes())
        .Where(type => type.GetCustomAttribute<GenerateSerializerAttribute>() is not null)
        .OrderBy(type => type.FullName, StringComparer.Ordinal)
        .ToList();

    /// <summary>Adds a type used in a grain call, unwrapping tasks and generic arguments, and the members of our own types.</summary>
    private static void Collect(Type type, HashSet<Type> used)
    {
        if (type == typeof(Task) || type == typeof(void))
        {
            return;
        }

        if (type.IsGenericType)
        {
            if (type.GetGenericTypeDefinition() != typeof(Task<>) && type.GetGenericTypeDefinition() != typeof(Nullable<>))
            {
                used.Add(type);
            }

            foreach (var argument in type.GetGenericArguments())
            {
                Collect(argument, used);
            }

            return;
        }

        if (!used.Add(type) || !ShardsAssemblies.Contains(type.Assembly))
        {
            return;
        }

        foreach (var property in type.GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.DeclaredOnly))
        {
            Collect(property.PropertyType, used);
        }
    }
}
