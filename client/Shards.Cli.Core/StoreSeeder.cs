using Shards.Client;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;

namespace Shards.Cli.Core;

/// <summary>A product or cart key: <c>product/SKU</c> or <c>cart/ID</c>.</summary>
public sealed record EntityKey(string Kind, string Id)
{
    public const string ProductKind = "product";
    public const string CartKind = "cart";

    public override string ToString() => $"{Kind}/{Id}";

    public static EntityKey Parse(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var kind = slash > 0 ? text[..slash] : string.Empty;
        if (kind is not (ProductKind or CartKind) || slash == text.Length - 1)
        {
            throw new FormatException($"'{text}' is not a key: write product/SKU or cart/ID (e.g. product/sku-00042).");
        }

        return new EntityKey(kind, text[(slash + 1)..]);
    }

    public ILocatableGrain Grain(IGrainFactory grains) => Kind == ProductKind
        ? grains.GetGrain<IProductGrain>(Id)
        : grains.GetGrain<ICartGrain>(Id);
}

/// <summary>
/// Deterministic store data: products <c>sku-00001..</c> and carts <c>cart-00001..</c> with 1-3 lines, so that
/// any later run can recompute what every key must hold and verify it.
/// </summary>
public sealed class StoreSeeder(IGrainFactory grains, int products, int carts, int parallelism = 64)
{
    public static string Sku(int i) => $"sku-{i:D5}";

    public static string CartId(int i) => $"cart-{i:D5}";

    public static ProductDefinition ProductAt(int i) => new($"Product {i}", 1m + (i % 100) + 0.99m, 100 + (i % 50));

    public IEnumerable<EntityKey> Keys() =>
        Enumerable.Range(1, products).Select(i => new EntityKey(EntityKey.ProductKind, Sku(i)))
            .Concat(Enumerable.Range(1, carts).Select(i => new EntityKey(EntityKey.CartKind, CartId(i))));

    /// <summary>The lines cart <paramref name="i"/> holds after seeding: distinct SKUs with quantities 1-3.</summary>
    public IReadOnlyList<(string Sku, int Quantity)> CartLinesAt(int i)
    {
        var count = 1 + (i % 3);
        return Enumerable.Range(0, count)
            .Select(n => 1 + ((i * 7 + n * 13) % products))
            .Distinct()
            .Select(p => (Sku(p), 1 + ((i + p) % 3)))
            .ToList();
    }

    public async Task SeedProductsAsync(Action? onEach, CancellationToken cancellationToken) =>
        await Parallel.ForEachAsync(Enumerable.Range(1, products), Options(cancellationToken), async (i, token) =>
        {
            await grains.GetGrain<IProductGrain>(Sku(i)).UpsertAsync(ProductAt(i), token);
            onEach?.Invoke();
        });

    public async Task SeedCartsAsync(Action? onEach, CancellationToken cancellationToken) =>
        await Parallel.ForEachAsync(Enumerable.Range(1, carts), Options(cancellationToken), async (i, token) =>
        {
            var cart = grains.GetGrain<ICartGrain>(CartId(i));
            foreach (var (sku, quantity) in CartLinesAt(i))
            {
                await cart.AddAsync(sku, quantity, token);
            }

            onEach?.Invoke();
        });

    /// <summary>Reads every key back (retrying while the cluster recovers) and lists the keys whose value is wrong.</summary>
    public async Task<IReadOnlyList<string>> VerifyAsync(TimeSpan retryBudget, Action? onEach, CancellationToken cancellationToken)
    {
        var wrong = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(1, products), Options(cancellationToken), async (i, ct) =>
        {
            var expected = ProductAt(i);
            var actual = await ClusterCallRetry.RunAsync(() => grains.GetGrain<IProductGrain>(Sku(i)).GetAsync(), retryBudget, ct);
            if (actual is null || actual.Name != expected.Name || actual.Price != expected.Price || actual.Stock != expected.Stock || actual.Version != 1)
            {
                wrong.Add($"product/{Sku(i)}: expected {expected}, found {actual?.ToString() ?? "nothing"}");
            }

            onEach?.Invoke();
        });
        await Parallel.ForEachAsync(Enumerable.Range(1, carts), Options(cancellationToken), async (i, ct) =>
        {
            var expected = CartLinesAt(i);
            var actual = await ClusterCallRetry.RunAsync(() => grains.GetGrain<ICartGrain>(CartId(i)).GetAsync(), retryBudget, ct);
            var same = actual.Lines.Count == expected.Count &&
                expected.All(e => actual.Lines.Any(l => l.Sku == e.Sku && l.Quantity == e.Quantity && l.UnitPrice == ProductAt(int.Parse(e.Sku[4..])).Price));
            if (!same || actual.Version != expected.Count)
            {
                wrong.Add($"cart/{CartId(i)}: expected {string.Join(", ", expected)}, found {string.Join(", ", actual.Lines.Select(l => (l.Sku, l.Quantity)))} (version {actual.Version})");
            }

            onEach?.Invoke();
        });
        return wrong.ToList();
    }

    private ParallelOptions Options(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
}
