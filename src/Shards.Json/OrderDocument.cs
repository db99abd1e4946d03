using Shards.Contracts.Orders;
using Shards.Domain;

namespace Shards.Json;

/// <summary>
/// An order as Shards shows it (the HTTP API's answers and <c>shards checkout</c> / <c>shards order get --json</c>): the checkout grain's <see cref="OrderView"/> without its payment token, which is
/// a secret. <paramref name="PaymentTokenHint"/> is its last characters (<see cref="PaymentTokens.Hint"/>), and a step's
/// detail or the failure reason that quotes the token quotes the hint instead.
/// </summary>
public sealed record OrderDocument(
    string OrderId,
    string CartId,
    OrderStatus Status,
    CheckoutStage Stage,
    IReadOnlyList<OrderLineView> Lines,
    decimal Total,
    string PaymentTokenHint,
    string? FailureReason,
    int PendingDeliveries,
    IReadOnlyList<OrderStepView> Steps,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static OrderDocument From(OrderView order) => new(
        order.OrderId,
        order.CartId,
        order.Status,
        order.Stage,
        order.Lines,
        order.Total,
        PaymentTokens.Hint(order.PaymentToken),
        order.FailureReason is { } reason ? PaymentTokens.Redact(reason, order.PaymentToken) : null,
        order.PendingDeliveries,
        order.Steps.Select(step => step with { Detail = PaymentTokens.Redact(step.Detail, order.PaymentToken) }).ToArray(),
        order.CreatedAt,
        order.UpdatedAt);
}

/// <summary>A page of orders as Shards shows them (<see cref="OrderDocument"/>); <paramref name="Next"/> is the next page's cursor.</summary>
public sealed record OrderDocumentPage(IReadOnlyList<OrderDocument> Items, string? Next);
