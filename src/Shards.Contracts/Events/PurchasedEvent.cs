namespace Shards.Contracts.Events;

/// <summary>One line of a purchase: what was sold, at which unit price.</summary>
[GenerateSerializer, Immutable, Alias("shards.PurchasedLine")]
public sealed record PurchasedLine(
    [property: Id(0)] string Sku,
    [property: Id(1)] int Quantity,
    [property: Id(2)] decimal UnitPrice);

/// <summary>
/// The <c>purchased</c> event: order <see cref="OrderId"/> was paid for the lines of cart <see cref="CartId"/>. The
/// checkout service publishes it once per paid order; it is delivered at least once to every subscriber, so a
/// subscriber applies it once by its <see cref="EventId"/> (see docs/services.md).
/// </summary>
/// <param name="EventId">Stable for the order (<c>purchased:ORDER</c>): a redelivery carries the same ID.</param>
[GenerateSerializer, Immutable, Alias("shards.PurchasedEvent")]
public sealed record PurchasedEvent(
    [property: Id(0)] string EventId,
    [property: Id(1)] string OrderId,
    [property: Id(2)] string CartId,
    [property: Id(3)] IReadOnlyList<PurchasedLine> Lines,
    [property: Id(4)] DateTimeOffset PaidAt)
{
    /// <summary>The event ID of order <paramref name="orderId"/>'s purchase.</summary>
    public static string IdFor(string orderId) => $"purchased:{orderId}";
}

/// <summary>
/// A grain that reacts to <c>purchased</c>. It is subscribed by its service (a subscription registered in the silo's
/// services names the grain type and which keys an event concerns), never by the publisher. Returning acknowledges the
/// event; throwing makes the publisher deliver it again later, so handling must be idempotent.
/// </summary>
[Alias("shards.IPurchasedSubscriber")]
public interface IPurchasedSubscriber : IGrainWithStringKey
{
    Task OnPurchasedAsync(PurchasedEvent purchased);
}
