using Orleans.Concurrency;
using Shards.Contracts.Common;

namespace Shards.Contracts.Orders;

/// <summary>An order's outcome as a customer sees it.</summary>
[GenerateSerializer, Alias("shards.OrderStatus")]
public enum OrderStatus
{
    /// <summary>Checkout is running (or resuming after a failure of the cluster).</summary>
    Pending = 1,

    /// <summary>Paid: the stock is the customer's and <c>purchased</c> was published.</summary>
    Paid = 2,

    /// <summary>Checkout failed; every step taken was undone (stock released, payment refunded, cart unlocked).</summary>
    Failed = 3,
}

/// <summary>Where the checkout saga of an order is.</summary>
[GenerateSerializer, Alias("shards.CheckoutStage")]
public enum CheckoutStage
{
    /// <summary>Accepted and persisted; the cart is locked next.</summary>
    Accepted = 1,

    /// <summary>The cart is locked and its lines copied; stock is being reserved line by line.</summary>
    Reserving = 2,

    /// <summary>Every line is reserved; the payment is being taken.</summary>
    Paying = 3,

    /// <summary>Paid; <c>purchased</c> is being delivered to its subscribers.</summary>
    Publishing = 4,

    /// <summary>Paid and <c>purchased</c> acknowledged by every subscriber.</summary>
    Completed = 5,

    /// <summary>A step failed; the earlier ones are being undone.</summary>
    Compensating = 6,

    /// <summary>Failed and fully compensated.</summary>
    Failed = 7,
}

/// <summary>One line of an order, copied from the cart when checkout locked it.</summary>
[GenerateSerializer, Immutable, Alias("shards.OrderLineView")]
public sealed record OrderLineView(
    [property: Id(0)] string Sku,
    [property: Id(1)] int Quantity,
    [property: Id(2)] decimal UnitPrice,
    [property: Id(3)] decimal LineTotal);

/// <summary>One step of the saga's history, persisted when it happened.</summary>
[GenerateSerializer, Immutable, Alias("shards.OrderStepView")]
public sealed record OrderStepView(
    [property: Id(0)] string Step,
    [property: Id(1)] string Detail,
    [property: Id(2)] DateTimeOffset At);

/// <summary>An order as the checkout service shows it.</summary>
/// <param name="PaymentToken">The token the order pays with (a card token, never a card number).</param>
/// <param name="PendingDeliveries">Subscribers that have not yet acknowledged <c>purchased</c> (0 once delivered).</param>
[GenerateSerializer, Immutable, Alias("shards.OrderView")]
public sealed record OrderView(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string CartId,
    [property: Id(2)] OrderStatus Status,
    [property: Id(3)] CheckoutStage Stage,
    [property: Id(4)] IReadOnlyList<OrderLineView> Lines,
    [property: Id(5)] decimal Total,
    [property: Id(6)] string PaymentToken,
    [property: Id(7)] string? FailureReason,
    [property: Id(8)] int PendingDeliveries,
    [property: Id(9)] IReadOnlyList<OrderStepView> Steps,
    [property: Id(10)] DateTimeOffset CreatedAt,
    [property: Id(11)] DateTimeOffset UpdatedAt);

/// <summary>What a checkout answers: the order, and whether this request created it (false for a repeat).</summary>
[GenerateSerializer, Immutable, Alias("shards.CheckoutOutcome")]
public sealed record CheckoutOutcome(
    [property: Id(0)] OrderView Order,
    [property: Id(1)] bool Created);

/// <summary>
/// The checkout/order service: one grain per order, keyed by order ID. Checkout runs as a saga (lock the cart, reserve
/// each line's stock, take payment, mark paid and publish <c>purchased</c>); a failed step undoes the earlier ones.
/// Progress is persisted at every step, and a reminder resumes an unfinished saga after a silo crash. Idempotent by
/// order ID: checking out an existing order answers its outcome and never reserves or charges again.
/// </summary>
/// <remarks>
/// The <c>cancellationToken</c> of each method only lets the caller stop waiting: Shards' client cancels the calls in
/// flight when it loses a gateway connection and resends them at once (same request ID), instead of waiting out the
/// response timeout for an answer that a killed silo will never send. The grain finishes a command it has started
/// either way, so the resent command finds it applied and is not applied twice.
/// </remarks>
[Alias("shards.ICheckoutGrain")]
public interface ICheckoutGrain : IGrainWithStringKey, ILocatableGrain
{
    /// <summary>
    /// Checks out cart <paramref name="cartId"/> as this order, paying with <paramref name="paymentToken"/>, and answers
    /// once the order is Paid or Failed. Conflict when the order ID is taken by another cart, or (creating nothing) when
    /// the cart is empty or already being checked out by another order.
    /// </summary>
    Task<CheckoutOutcome> CheckoutAsync(string cartId, string paymentToken, CancellationToken cancellationToken = default);

    /// <summary>
    /// The order, or null when no checkout was ever started under this ID. Interleaves with a running checkout: it
    /// answers the last persisted step (e.g. Paying while the gateway is slow) instead of waiting for the outcome.
    /// </summary>
    [AlwaysInterleave]
    Task<OrderView?> GetAsync(CancellationToken cancellationToken = default);
}
