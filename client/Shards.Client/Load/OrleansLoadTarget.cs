using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;

namespace Shards.Client.Load;

/// <summary>
/// The load target through the Orleans client: one grain call per request, with whatever the client itself does on
/// failure (gateway choice, its own retries). Grain calls take no cancellation token; a call that hangs ends at the
/// client's response timeout.
/// </summary>
public sealed class OrleansLoadTarget(IGrainFactory grains) : ILoadTarget
{
    public string Name => "orleans";

    public Task UpsertProductAsync(string sku, string name, decimal price, int stock, CancellationToken cancellationToken) =>
        grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition(name, price, stock));

    public async Task<IReadOnlyDictionary<string, int>> ReadCartAsync(string cartId, CancellationToken cancellationToken)
    {
        var cart = await grains.GetGrain<ICartGrain>(cartId).GetAsync();
        return cart.Lines.ToDictionary(line => line.Sku, line => line.Quantity, StringComparer.Ordinal);
    }

    public Task AddToCartAsync(string cartId, string sku, int quantity, CancellationToken cancellationToken) =>
        grains.GetGrain<ICartGrain>(cartId).AddAsync(sku, quantity);

    public Task ClearCartAsync(string cartId, CancellationToken cancellationToken) =>
        grains.GetGrain<ICartGrain>(cartId).ClearAsync();

    public async Task<string?> LocateCartAsync(string cartId, CancellationToken cancellationToken) =>
        (await grains.GetGrain<ICartGrain>(cartId).WhereAsync()).SiloName;
}
