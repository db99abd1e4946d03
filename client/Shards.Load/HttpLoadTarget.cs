using System.Net.Http.Json;
using System.Text.Json;

namespace Shards.Load;

/// <summary>
/// The load target through the HTTP API (a silo's port, or nginx in front of all of them): one HTTP request per
/// transaction, like siege. Every write carries a fresh <c>Idempotency-Key</c>, so that a load balancer that re-sends
/// it to another silo gets it applied once. A non-2xx answer is a failed transaction, with the problem's detail.
/// </summary>
public sealed class HttpLoadTarget : ILoadTarget, IDisposable
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;

    public HttpLoadTarget(Uri baseAddress, string apiKey, int connections)
    {
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(1, connections),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        _http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
    }

    public string Name => $"http {_http.BaseAddress}";

    public async Task UpsertProductAsync(string sku, string name, decimal price, int stock, CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Put, $"api/products/{sku}", new { name, price, stock }, cancellationToken);

    public async Task<string?> ReadProductNameAsync(string sku, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await SendAsync(HttpMethod.Get, $"api/products/{sku}", null, cancellationToken);
            var product = await response.Content.ReadFromJsonAsync<ProductDocument>(s_json, cancellationToken)
                ?? throw new HttpRequestException($"GET api/products/{sku} answered an empty body.");
            return product.Name;
        }
        catch (HttpRequestException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<IReadOnlyDictionary<string, int>> ReadCartAsync(string cartId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, $"api/carts/{cartId}", null, cancellationToken);
        var cart = await response.Content.ReadFromJsonAsync<CartDocument>(s_json, cancellationToken)
            ?? throw new HttpRequestException($"GET api/carts/{cartId} answered an empty body.");
        return cart.Lines.ToDictionary(line => line.Sku, line => line.Quantity, StringComparer.Ordinal);
    }

    public async Task AddToCartAsync(string cartId, string sku, int quantity, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Post, $"api/carts/{cartId}/items", new { sku, quantity }, cancellationToken)).Dispose();

    public async Task ClearCartAsync(string cartId, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Delete, $"api/carts/{cartId}", null, cancellationToken)).Dispose();

    public async Task<string?> LocateCartAsync(string cartId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, $"api/where/cart/{cartId}", null, cancellationToken);
        var location = await response.Content.ReadFromJsonAsync<LocationDocument>(s_json, cancellationToken);
        return location?.SiloName;
    }

    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: s_json);
        }

        if (method != HttpMethod.Get)
        {
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        }

        var response = await _http.SendAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        var detail = await response.Content.ReadAsStringAsync(cancellationToken);
        response.Dispose();
        throw new HttpRequestException(
            $"{method} {path} answered {(int)response.StatusCode} {response.ReasonPhrase}: {Problem(detail)}", null, response.StatusCode);
    }

    private static string Problem(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() ?? body : body;
        }
        catch (JsonException)
        {
            return body.Length > 200 ? body[..200] : body;
        }
    }

    private sealed record ProductDocument(string Name);

    private sealed record CartDocument(IReadOnlyList<CartLineDocument> Lines);

    private sealed record CartLineDocument(string Sku, int Quantity);

    private sealed record LocationDocument(string? SiloName);
}
