namespace Shards.Api.Endpoints;

/// <summary>PUT /api/products/{sku}: every field is required; unknown fields are refused.</summary>
public sealed record ProductBody(string Name, decimal Price, int Stock);

/// <summary>POST /api/products/{sku}/reserve and /release, PUT /api/carts/{cartId}/items/{sku}.</summary>
public sealed record QuantityBody(int Quantity);

/// <summary>POST /api/carts/{cartId}/items.</summary>
public sealed record CartItemBody(string Sku, int Quantity);

/// <summary>POST /api/orders: check cart <c>CartId</c> out as order <c>OrderId</c>, paying with a card token (e.g. tok-visa).</summary>
public sealed record CheckoutBody(string OrderId, string CartId, string PaymentToken);
