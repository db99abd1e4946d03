using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shards.Api.Problems;
using Shards.Api.Security;
using Shards.Contracts.Catalog;
using Shards.Domain;

namespace Shards.Api.Endpoints;

/// <summary>The catalog service over HTTP: /api/products/{sku}. Reading needs the read scope, every change the catalog scope.</summary>
internal static class ProductRoutes
{
    public static void Map(RouteGroupBuilder api)
    {
        var products = api.MapGroup("/products/{sku}").WithTags("Products");

        // A read is answered from this silo's leased copy of the product when it has one (docs/read-leases.md).
        products.MapGet("/", (string sku, HttpContext http, ProductReads reads, GrainCalls calls) =>
            GrainCalls.CheckId(sku, Identifiers.ValidateSku) is { } invalid
                ? Task.FromResult(invalid)
                : reads.Cached(sku) is { } copy
                    ? Task.FromResult<IResult>(TypedResults.Ok(copy))
                    : calls.RunAsync(http, $"Reading product {sku}", () => reads.ReadAsync(sku), product => product is null
                        ? ApiProblems.NotFound($"There is no product with SKU {sku}.")
                        : TypedResults.Ok(product)))
            .RequireScope(ApiScopes.Read)
            .WithName("GetProduct").WithSummary("A product: name, price, stock available, units reserved (and of them, outside orders), sold, and version")
            .Produces<ProductSnapshot>().ProducesProblem(StatusCodes.Status404NotFound);

        products.MapPut("/", (string sku, ProductBody body, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
            GrainCalls.CheckId(sku, Identifiers.ValidateSku) is { } invalid
                ? Task.FromResult(invalid)
                : calls.RunAsync(
                    http, $"Storing product {sku}",
                    () => grains.ByKey<IProductGrain>(sku).UpsertAsync(new ProductDefinition(body.Name, body.Price, body.Stock)),
                    TypedResults.Ok))
            .RequireScope(ApiScopes.Catalog)
            .WithName("UpsertProduct").WithSummary("Create the product or replace its name, price and available stock (409 when stock + reserved would pass the maximum)")
            .Produces<ProductSnapshot>().ProducesProblem(StatusCodes.Status409Conflict);

        products.MapPost("/reserve", (string sku, QuantityBody body, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
            GrainCalls.CheckId(sku, Identifiers.ValidateSku) is { } invalid
                ? Task.FromResult(invalid)
                : calls.RunAsync(http, $"Reserving {body.Quantity} of {sku}", () => grains.ByKey<IProductGrain>(sku).ReserveAsync(body.Quantity), TypedResults.Ok))
            .RequireScope(ApiScopes.Catalog)
            .WithName("ReserveStock").WithSummary("Take units out of stock, outside any order (409 when not enough are available)")
            .Produces<ProductSnapshot>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        products.MapPost("/release", (string sku, QuantityBody body, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
            GrainCalls.CheckId(sku, Identifiers.ValidateSku) is { } invalid
                ? Task.FromResult(invalid)
                : calls.RunAsync(http, $"Releasing {body.Quantity} of {sku}", () => grains.ByKey<IProductGrain>(sku).ReleaseAsync(body.Quantity), TypedResults.Ok))
            .RequireScope(ApiScopes.Catalog)
            .WithName("ReleaseStock").WithSummary("Put back units taken by reserve (409 when fewer are reserved outside orders; nothing is released)")
            .Produces<ProductSnapshot>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }
}
