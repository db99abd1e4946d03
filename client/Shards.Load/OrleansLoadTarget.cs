using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;

namespace Shards.Load;

/// <summary>
/// The load target through the Orleans client: one grain call per request, with whatever the client itself does on
/// failure (gateway choice, its own retries, resending at once when a gateway drops). The run's cancellation token is
/// deliberately not passed on: a write in flight when the run ends is awaited, so the lost/duplicated-write check knows
/// whether it was acknowledged; a call that hangs ends at the client's response timeout.
/// </summary>
public sealed class OrleansLoadTarget(IGrainFactory grains) : ILoadTarget
{
    public string Name => "orleans";

    public Task UpsertProductAsync(string sku, string name, decimal price, int stock, CancellationToken cancellationToken) =>
        grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition(name, price, stock), CancellationToken.None);

    public async Task<string?> ReadProductNameAsync(string sku, CancellationToken cancellationToken) =>
        (await grains.GetGrain<IProductGrain>(sku).GetAsync(CancellationToken.None))?.Name;

    public async Task<IReadOnlyDictionary<string, int>> ReadCartAsync(string cartId, CancellationToken cancellationToken)
    {
        var cart = await grains.GetGrain<ICartGrain>(cartId).GetAsync(CancellationToken.None);
        return cart.Lines.ToDictionary(line => line.Sku, line => line.Quantity, StringComparer.Ordinal);
    }

    public Task AddToCartAsync(string cartId, string sku, int quantity, CancellationToken cancellationToken) =>
        grains.GetGrain<ICartGrain>(cartId).AddAsync(sku, quantity, CancellationToken.None);

    public Task ClearCartAsync(string cartId, CancellationToken cancellationToken) =>
        grains.GetGrain<ICartGrain>(cartId).ClearAsync(CancellationToken.None);

    public async Task<string?> LocateCartAsync(string cartId, CancellationToken cancellationToken) =>
        (await grains.GetGrain<ICartGrain>(cartId).WhereAsync(CancellationToken.None)).SiloName;
}
