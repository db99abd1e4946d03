using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shards.Api.Security;
using Shards.Contracts.Carts;
using Shards.Domain;

namespace Shards.Api.Endpoints;

/// <summary>
/// The cart service over HTTP: /api/carts/{cartId}. A cart never written reads as empty (version 0). Reading needs the
/// read scope, every change the write scope.
/// </summary>
internal static class CartRoutes
{
    public static void Map(RouteGroupBuilder api)
    {
        var carts = api.MapGroup("/carts/{cartId}").WithTags("Carts");

        carts.MapGet("/", (string cartId, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
            Call(cartId, null, http, calls, $"Reading cart {cartId}", () => grains.ByKey<ICartGrain>(cartId).GetAsync()))
            .RequireScope(ApiScopes.Read)
            .WithName("GetCart").WithSummary("A cart with its lines and total (empty when never written)")
            .Produces<CartView>();

        carts.MapPost("/items", (string cartId, CartItemBody body, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
            Call(cartId, body.Sku, http, calls, $"Adding {body.Quantity} of {body.Sku} to cart {cartId}", () => grains.ByKey<ICartGrain>(cartId).AddAsync(body.Sku, body.Quantity)))
            .RequireScope(ApiScopes.Write)
            .WithName("AddCartItem").WithSummary("Add units of a product at its current price (404 for an unknown SKU)")
            .Produces<CartView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        carts.MapPut("/items/{sku}", (string cartId, string sku, QuantityBody body, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
            Call(cartId, sku, http, calls, $"Setting {sku} to {body.Quantity} in cart {cartId}", () => grains.ByKey<ICartGrain>(cartId).SetQuantityAsync(sku, body.Quantity)))
            .RequireScope(ApiScopes.Write)
            .WithName("SetCartItem").WithSummary("Set a line's quantity (0 removes the line)")
            .Produces<CartView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        carts.MapDelete("/items/{sku}", (string cartId, string sku, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
            Call(cartId, sku, http, calls, $"Removing {sku} from cart {cartId}", () => grains.ByKey<ICartGrain>(cartId).RemoveAsync(sku)))
            .RequireScope(ApiScopes.Write)
            .WithName("RemoveCartItem").WithSummary("Remove a line (404 when the cart has no such line)")
            .Produces<CartView>().ProducesProblem(StatusCodes.Status404NotFound);

        carts.MapDelete("/", (string cartId, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
            Call(cartId, null, http, calls, $"Emptying cart {cartId}", () => grains.ByKey<ICartGrain>(cartId).ClearAsync()))
            .RequireScope(ApiScopes.Write)
            .WithName("ClearCart").WithSummary("Empty the cart")
            .Produces<CartView>();
    }

    private static Task<IResult> Call(string cartId, string? sku, HttpContext http, GrainCalls calls, string operation, Func<Task<CartView>> call)
    {
        var invalid = GrainCalls.CheckId(cartId, Identifiers.ValidateCartId) ?? (sku is null ? null : GrainCalls.CheckId(sku, Identifiers.ValidateSku));
        return invalid is not null ? Task.FromResult(invalid) : calls.RunAsync(http, operation, call, TypedResults.Ok);
    }
}
