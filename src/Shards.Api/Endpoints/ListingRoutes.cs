using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shards.Api.Problems;
using Shards.Api.Security;
using Shards.Contracts.Listing;
using Shards.Json;

namespace Shards.Api.Endpoints;

/// <summary>
/// Listings, read from the shard databases without activating grains (<see cref="IStoreListingGrain"/>):
/// GET /api/products, /api/carts and /api/orders page by key (<c>?after=KEY&amp;limit=N</c>; the answer's <c>next</c> is
/// the next page's <c>after</c>, null on the last page), GET /api/events the most recent <c>purchased</c> events with
/// their deliveries (<c>?limit=N</c>). All need the read scope.
/// </summary>
internal static class ListingRoutes
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/products", (string? after, string? limit, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
                PageAsync(http, calls, "products", after, limit, n => Listing(grains).ProductsAsync(after, n), page => page))
            .RequireScope(ApiScopes.Read).WithTags("Products")
            .WithName("ListProducts").WithSummary("Products in SKU order, a page at a time (?after=SKU&limit=N, at most 500; next is the following page's after)")
            .Produces<ProductPage>();

        api.MapGet("/carts", (string? after, string? limit, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
                PageAsync(http, calls, "carts", after, limit, n => Listing(grains).CartsAsync(after, n), page => page))
            .RequireScope(ApiScopes.Read).WithTags("Carts")
            .WithName("ListCarts").WithSummary("Carts ever written, in cart ID order, a page at a time (?after=CART&limit=N)")
            .Produces<CartPage>();

        api.MapGet("/orders", (string? after, string? limit, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
                PageAsync(
                    http, calls, "orders", after, limit, n => Listing(grains).OrdersAsync(after, n),
                    page => new OrderDocumentPage(page.Items.Select(OrderDocument.From).ToArray(), page.Next)))
            .RequireScope(ApiScopes.Read).WithTags("Orders")
            .WithName("ListOrders").WithSummary("Orders in order ID order, a page at a time (?after=ORDER&limit=N), without payment tokens")
            .Produces<OrderDocumentPage>();

        api.MapGet("/events", (string? limit, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
                ParseLimit(limit, ListingLimits.DefaultEvents, ListingLimits.MaxEvents) is not { } n
                    ? Task.FromResult(BadLimit(ListingLimits.MaxEvents))
                    : calls.RunAsync(http, "Listing purchased events", () => Listing(grains).RecentEventsAsync(n), events => TypedResults.Ok(new { events })))
            .RequireScope(ApiScopes.Read).WithTags("Events")
            .WithName("ListEvents")
            .WithSummary("The most recent purchased events, newest first, each with its deliveries: subscriber, attempts, delivered or pending, last error (?limit=N, at most 200)");
    }

    private static IStoreListingGrain Listing(IGrainFactory grains) => grains.GetGrain<IStoreListingGrain>(ListingLimits.GrainKey);

    private static Task<IResult> PageAsync<TPage, TShown>(
        HttpContext http, GrainCalls calls, string what, string? after, string? limit, Func<int, Task<TPage>> list, Func<TPage, TShown> shown)
    {
        if (ParseLimit(limit, ListingLimits.DefaultLimit, ListingLimits.MaxLimit) is not { } n)
        {
            return Task.FromResult(BadLimit(ListingLimits.MaxLimit));
        }

        if (after is { Length: 0 })
        {
            return Task.FromResult(ApiProblems.Validation("after is empty: leave it out for the first page, or pass the previous page's next."));
        }

        return calls.RunAsync(http, $"Listing {what}", () => list(n), page => TypedResults.Ok(shown(page)));
    }

    /// <summary>The page size asked for: <paramref name="fallback"/> when absent; null when it is not a whole number from 1 to <paramref name="max"/>.</summary>
    internal static int? ParseLimit(string? limit, int fallback, int max) =>
        limit is null ? fallback
        : int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= max ? n
        : null;

    private static IResult BadLimit(int max) => ApiProblems.Validation($"limit must be a whole number from 1 to {max}.");
}
