using System.Net.Http.Headers;
using System.Text;
using Shards.Cli.Core;

namespace Shards.Bench;

/// <summary>The endpoints of the HTTP suite, from the stack's own limit to a checkout.</summary>
public enum HttpEndpoint
{
    /// <summary><c>GET /health/live</c>, anonymous: no key check, no grain call; the limit of this HTTP stack.</summary>
    Bare,

    /// <summary><c>GET /api/members</c> with the API key (operator scope): the key check and the API's pipeline, no grain call.</summary>
    Authenticated,

    /// <summary><c>GET /api/products/{sku}</c> on a seeded SKU: one grain read.</summary>
    ProductGet,

    /// <summary><c>POST /api/carts/{cart}/items</c> with a fresh <c>Idempotency-Key</c>: one idempotency record and one grain write.</summary>
    CartAdd,

    /// <summary><c>POST /api/orders</c> on a prepared cart of its own: the whole checkout (reservation, payment, order).</summary>
    Checkout,

    /// <summary>
    /// Not HTTP: <c>ICartGrain.AddAsync</c> through the bench's Orleans client, on the carts and SKUs the cart add picks.
    /// The client gives each call a request ID and deadline as the API does, so the grain does the same work as for an
    /// HTTP cart add (the price read, the persisted write with its request-log row) without HTTP and without the
    /// <c>Idempotency-Key</c> record: what a cart add costs below the API, on the same cluster in the same run. Measured
    /// on the direct target only.
    /// </summary>
    GrainCartAdd,
}

/// <summary>Names and headers of the HTTP suite's endpoints.</summary>
public static class HttpEndpoints
{
    public const string ApiKeyHeader = "X-Api-Key";
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string PaymentToken = "tok-visa";

    public static IReadOnlyList<HttpEndpoint> All { get; } = Enum.GetValues<HttpEndpoint>();

    /// <summary>The short names <c>--http-endpoints</c> takes, one per endpoint.</summary>
    public static IReadOnlyList<string> ShortNames { get; } = [.. All.Select(ShortName)];

    /// <summary>Whether the endpoint is an HTTP request (every one but <see cref="HttpEndpoint.GrainCartAdd"/>), measured on every target.</summary>
    public static bool IsHttp(HttpEndpoint endpoint) => endpoint != HttpEndpoint.GrainCartAdd;

    public static string ShortName(HttpEndpoint endpoint) => endpoint switch
    {
        HttpEndpoint.Bare => "bare",
        HttpEndpoint.Authenticated => "auth",
        HttpEndpoint.ProductGet => "product",
        HttpEndpoint.CartAdd => "cart-add",
        HttpEndpoint.Checkout => "checkout",
        HttpEndpoint.GrainCartAdd => "grain-cart-add",
        _ => throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint, null),
    };

    /// <summary>
    /// The endpoints of a list such as <c>product,cart-add</c> (<see cref="ShortNames"/>), in the suite's order, with the
    /// bare endpoint always among them (every ratio's denominator); throws for a name not in the list.
    /// </summary>
    public static IReadOnlyList<HttpEndpoint> Parse(string list)
    {
        var chosen = new HashSet<HttpEndpoint> { HttpEndpoint.Bare };
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var index = ShortNames.ToList().IndexOf(name.ToLowerInvariant());
            if (index < 0)
            {
                throw new ArgumentException($"'{name}' is not an HTTP bench endpoint: {string.Join(", ", ShortNames)}.", nameof(list));
            }

            chosen.Add(All[index]);
        }

        return [.. All.Where(chosen.Contains)];
    }

    public static string Name(HttpEndpoint endpoint) => endpoint switch
    {
        HttpEndpoint.Bare => "bare GET /health/live",
        HttpEndpoint.Authenticated => "auth GET /api/members",
        HttpEndpoint.ProductGet => "GET /api/products/{sku}",
        HttpEndpoint.CartAdd => "POST /api/carts/{id}/items",
        HttpEndpoint.Checkout => "POST /api/orders",
        HttpEndpoint.GrainCartAdd => "cart AddAsync, Orleans client",
        _ => throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint, null),
    };
}

/// <summary>
/// The requests of the HTTP suite. Product reads and cart adds pick seeded keys at random; a cart add always adds one
/// of ten SKUs per cart (a cart holds at most 100 lines); every checkout takes the next prepared cart and a new order
/// ID, and when the prepared carts are used up <see cref="Create"/> answers null (the run ends).
/// </summary>
public sealed class HttpRequestFactory(string apiKey, int keys, int checkoutCarts, string runTag)
{
    private long _checkoutsTaken;

    /// <summary>The cart the checkout of number <paramref name="i"/> (1-based) takes; prepared with one line.</summary>
    public static string CheckoutCartId(int i) => $"http-checkout-{i:D6}";

    /// <summary>The SKU of the line in checkout cart <paramref name="i"/>.</summary>
    public static string CheckoutSku(int i, int keys) => StoreSeeder.Sku(1 + (i % keys));

    public static string AddCartId(int i) => $"http-add-{i:D5}";

    public long CheckoutsTaken => Math.Min(Interlocked.Read(ref _checkoutsTaken), checkoutCarts);

    public HttpRequestMessage? Create(HttpEndpoint endpoint, Uri baseAddress)
    {
        switch (endpoint)
        {
            case HttpEndpoint.Bare:
                return new HttpRequestMessage(HttpMethod.Get, new Uri(baseAddress, "health/live"));
            case HttpEndpoint.Authenticated:
                return Keyed(new HttpRequestMessage(HttpMethod.Get, new Uri(baseAddress, "api/members")));
            case HttpEndpoint.ProductGet:
                return Keyed(new HttpRequestMessage(HttpMethod.Get, new Uri(baseAddress, $"api/products/{StoreSeeder.Sku(1 + Random.Shared.Next(keys))}")));
            case HttpEndpoint.CartAdd:
                var (cart, sku) = NextCartAdd();
                var add = Keyed(new HttpRequestMessage(HttpMethod.Post, new Uri(baseAddress, $"api/carts/{cart}/items"))
                {
                    Content = Json($$"""{"sku":"{{sku}}","quantity":1}"""),
                });
                add.Headers.Add(HttpEndpoints.IdempotencyKeyHeader, Guid.NewGuid().ToString("N"));
                return add;
            case HttpEndpoint.Checkout:
                var taken = Interlocked.Increment(ref _checkoutsTaken);
                if (taken > checkoutCarts)
                {
                    return null;
                }

                return Keyed(new HttpRequestMessage(HttpMethod.Post, new Uri(baseAddress, "api/orders"))
                {
                    Content = Json($$"""{"orderId":"http-order-{{runTag}}-{{taken}}","cartId":"{{CheckoutCartId((int)taken)}}","paymentToken":"{{HttpEndpoints.PaymentToken}}"}"""),
                });
            default:
                throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint, null);
        }
    }

    /// <summary>The cart and SKU of the next cart add (HTTP or through the Orleans client): a seeded cart at random, one of its ten SKUs.</summary>
    public (string CartId, string Sku) NextCartAdd()
    {
        var cart = 1 + Random.Shared.Next(keys);
        return (AddCartId(cart), StoreSeeder.Sku(1 + ((cart * 7 + Random.Shared.Next(10)) % keys)));
    }

    private HttpRequestMessage Keyed(HttpRequestMessage request)
    {
        request.Headers.Add(HttpEndpoints.ApiKeyHeader, apiKey);
        return request;
    }

    private static ByteArrayContent Json(string body)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}
