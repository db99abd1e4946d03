using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shards.Api.Problems;
using Shards.Api.Security;
using Shards.Contracts.Orders;
using Shards.Domain;
using Shards.Json;

namespace Shards.Api.Endpoints;

/// <summary>
/// The checkout/order service over HTTP: POST /api/orders checks a cart out as an order (201 with the order when this
/// request created it, 200 with the same order for a repeat of the order ID), GET /api/orders/{orderId}. An order is
/// answered as an <see cref="OrderDocument"/>: never with its payment token.
/// </summary>
internal static class OrderRoutes
{
    public static void Map(RouteGroupBuilder api)
    {
        var orders = api.MapGroup("/orders").WithTags("Orders");

        orders.MapPost("/", (CheckoutBody body, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
            (GrainCalls.CheckId(body.OrderId, Identifiers.ValidateOrderId)
                ?? GrainCalls.CheckId(body.CartId, Identifiers.ValidateCartId)
                ?? GrainCalls.CheckId(body.PaymentToken, Identifiers.ValidatePaymentToken)) is { } invalid
                ? Task.FromResult(invalid)
                : calls.RunAsync(
                    http, $"Checking out cart {body.CartId} as order {body.OrderId}",
                    () => grains.ByKey<ICheckoutGrain>(body.OrderId).CheckoutAsync(body.CartId, body.PaymentToken),
                    outcome => outcome.Created
                        ? TypedResults.Created($"/api/orders/{outcome.Order.OrderId}", OrderDocument.From(outcome.Order))
                        : TypedResults.Ok(OrderDocument.From(outcome.Order))))
            .RequireScope(ApiScopes.Write)
            .WithName("Checkout")
            .WithSummary("Check a cart out as an order: lock the cart, reserve stock, pay, publish purchased. The answer is the order, paid or failed (with the reason); a repeat of the order ID answers the same order and never charges twice")
            .Produces<OrderDocument>(StatusCodes.Status201Created).Produces<OrderDocument>()
            .ProducesProblem(StatusCodes.Status409Conflict);

        orders.MapGet("/{orderId}", (string orderId, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
            GrainCalls.CheckId(orderId, Identifiers.ValidateOrderId) is { } invalid
                ? Task.FromResult(invalid)
                : calls.RunAsync(http, $"Reading order {orderId}", () => grains.ByKey<ICheckoutGrain>(orderId).GetAsync(), order => order is null
                    ? ApiProblems.NotFound($"There is no order {orderId}.")
                    : TypedResults.Ok(OrderDocument.From(order))))
            .RequireScope(ApiScopes.Read)
            .WithName("GetOrder").WithSummary("An order: status, saga stage, lines, total and step history")
            .Produces<OrderDocument>().ProducesProblem(StatusCodes.Status404NotFound);
    }
}
