namespace Shards.Api.Endpoints;

/// <summary>PUT /api/products/{sku}: every field is required; unknown fields are refused.</summary>
public sealed record ProductBody(string Name, decimal Price, int Stock);

/// <summary>POST /api/products/{sku}/reserve and /release, PUT /api/carts/{cartId}/items/{sku}.</summary>
public sealed record QuantityBody(int Quantity);

/// <summary>POST /api/carts/{cartId}/items.</summary>
public sealed record CartItemBody(string Sku, int Quantity);

/// <summary>POST /api/orders: check cart <c>CartId</c> out as order <c>OrderId</c>, paying with a card token (e.g. tok-visa).</summary>
public sealed record CheckoutBody(string OrderId, string CartId, string PaymentToken);

/// <summary>One silo of GET /api/members.</summary>
public sealed record MemberView(string Name, string Address, int Generation, string Status, bool ServedThisRequest);

/// <summary>GET /api/members: the cluster as the serving silo sees it.</summary>
public sealed record MembersView(string ServedBy, long MembershipVersion, IReadOnlyList<MemberView> Members);
