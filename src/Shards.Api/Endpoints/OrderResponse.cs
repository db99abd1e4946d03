using Shards.Contracts.Orders;
using Shards.Domain;

namespace Shards.Api.Endpoints;

/// <summary>
/// An order as the HTTP API shows it: the checkout grain's <see cref="OrderView"/> without its payment token, which is
/// a secret. <paramref name="PaymentTokenHint"/> is its last characters (<see cref="PaymentTokens.Hint"/>), and a step's
/// detail or the failure reason that quotes the token quotes the hint instead.
/// </summary>
public sealed record OrderResponse(
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
    public static OrderResponse From(OrderView order) => new(
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

/// <summary>A page of orders as the HTTP API shows them (<see cref="OrderResponse"/>); <paramref name="Next"/> is the next page's cursor.</summary>
public sealed record OrderResponsePage(IReadOnlyList<OrderResponse> Items, string? Next);
