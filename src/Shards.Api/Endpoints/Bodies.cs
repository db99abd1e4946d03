namespace Shards.Api.Endpoints;

/// <summary>PUT /api/products/{sku}: every field is required; unknown fields are refused.</summary>
public sealed record ProductBody(string Name, decimal Price, int Stock);

/// <summary>POST /api/products/{sku}/reserve and /release, PUT /api/carts/{cartId}/items/{sku}.</summary>
public sealed record QuantityBody(int Quantity);

/// <summary>POST /api/carts/{cartId}/items.</summary>
public sealed record CartItemBody(string Sku, int Quantity);

/// <summary>POST /api/orders: check cart <c>CartId</c> out as order <c>OrderId</c>, paying with a card token (e.g. tok-visa).</summary>
public sealed record CheckoutBody(string OrderId, string CartId, string PaymentToken);

/// <summary>A valid body of each kind, as the problem of a missing or incomplete body shows it.</summary>
internal static class BodyExamples
{
    public static string For(Type? body) => body?.Name switch
    {
        nameof(ProductBody) => """{"name":"Desk lamp","price":12.50,"stock":10}""",
        nameof(QuantityBody) => """{"quantity":1}""",
        nameof(CartItemBody) => """{"sku":"sku-1001","quantity":1}""",
        nameof(CheckoutBody) => """{"orderId":"order-1001","cartId":"cart-1001","paymentToken":"tok-visa"}""",
        _ => "the one in /openapi/v1.json",
    };
}
