using Microsoft.Extensions.Logging;
using Shards.Contracts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Domain;
using Shards.Domain.Catalog;
using Shards.Grains.Common;
using Shards.Grains.Placement;

namespace Shards.Grains.Catalog;

/// <summary>
/// One product of the catalog, keyed by SKU. Every change is computed by the domain rules, stored, and only then
/// acknowledged; a rejected change leaves the product as it was.
/// </summary>
/// <remarks>
/// Consistent-hash placement: each product lives on its home silo on a ring over the live silos (docs/sharding.md),
/// so products spread evenly and predictably, and when a silo joins or leaves only ~1/N of them move (the default
/// resource-optimised placement puts most new keys on one silo; Orleans' hash-based placement moves ~3/4 on a join).
/// </remarks>
[GrainType("product")]
[ConsistentHashPlacement]
public sealed class ProductGrain(
    [PersistentState(StateNames.Product, StorageNames.Catalog)] IPersistentState<ProductState> state,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<ProductGrain> logger) : Grain, IProductGrain
{
    private DateTimeOffset _activatedAt;

    /// <summary>The stored state <see cref="_snapshot"/> was built from (every acknowledged write replaces the state object).</summary>
    private ProductState? _snapshotOf;

    private ProductSnapshot? _snapshot;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = time.GetUtcNow();
        return Task.CompletedTask;
    }

    public async Task<ProductSnapshot> UpsertAsync(ProductDefinition definition)
    {
        var sku = ValidSku();
        if (definition is null)
        {
            throw new ShardsException(ShardsErrorCode.Validation, $"A product definition (name, price, stock) is required to create or change {sku}.");
        }

        var current = CurrentProduct(sku);
        if (current is not null && RequestDeduplication.AlreadyApplied(state.State.AppliedRequests))
        {
            return Snapshot(current, state.State.Version);
        }

        var next = DomainRules.Check(() => current is null
            ? Product.Create(sku, definition.Name, definition.Price, definition.Stock)
            : current.Update(definition.Name, definition.Price, definition.Stock));
        return await SaveAsync(current, next);
    }

    /// <summary>Answers the snapshot built after the last acknowledged write (or on the first read), without rebuilding it.</summary>
    public Task<ProductSnapshot?> GetAsync()
    {
        var stored = state.State;
        if (_snapshot is not null && ReferenceEquals(_snapshotOf, stored))
        {
            return Task.FromResult<ProductSnapshot?>(_snapshot);
        }

        var product = CurrentProduct(ValidSku());
        if (product is null)
        {
            return Task.FromResult<ProductSnapshot?>(null);
        }

        (_snapshotOf, _snapshot) = (stored, Snapshot(product, stored.Version));
        return Task.FromResult<ProductSnapshot?>(_snapshot);
    }

    public async Task<ProductSnapshot> ReserveAsync(int quantity)
    {
        var current = ExistingProduct("Nothing was reserved.");
        if (RequestDeduplication.AlreadyApplied(state.State.AppliedRequests))
        {
            return Snapshot(current, state.State.Version);
        }

        return await SaveAsync(current, DomainRules.Check(() => current.Reserve(quantity)));
    }

    public async Task<ProductSnapshot> ReleaseAsync(int quantity)
    {
        var current = ExistingProduct("Nothing was released.");
        if (RequestDeduplication.AlreadyApplied(state.State.AppliedRequests))
        {
            return Snapshot(current, state.State.Version);
        }

        return await SaveAsync(current, DomainRules.Check(() => current.Release(quantity)));
    }

    public Task<GrainLocation> WhereAsync()
    {
        ValidSku();
        return Task.FromResult(GrainLocations.Of(this, silo, _activatedAt));
    }

    private string ValidSku() => DomainRules.Check(() => Identifiers.ValidateSku(this.GetPrimaryKeyString()));

    private Product? CurrentProduct(string sku)
    {
        var stored = state.State;
        return stored.Version == 0 ? null : DomainRules.Check(() => Product.Create(sku, stored.Name, stored.Price, stored.Stock));
    }

    private Product ExistingProduct(string nothingChanged)
    {
        var sku = ValidSku();
        return CurrentProduct(sku)
            ?? throw new ShardsException(ShardsErrorCode.NotFound, $"There is no product with SKU {sku}. {nothingChanged}");
    }

    private async Task<ProductSnapshot> SaveAsync(Product? current, Product next)
    {
        var version = state.State.Version;
        if (ReferenceEquals(current, next))
        {
            return Snapshot(next, version);
        }

        var stored = new ProductState
        {
            Name = next.Name,
            Price = next.Price,
            Stock = next.Stock,
            Version = version + 1,
            AppliedRequests = RequestDeduplication.Record(state.State.AppliedRequests),
        };
        await state.CommitAsync(stored, this, logger, $"product {next.Sku}");
        (_snapshotOf, _snapshot) = (stored, Snapshot(next, stored.Version));
        return _snapshot;
    }

    private static ProductSnapshot Snapshot(Product product, long version) =>
        new(product.Sku, product.Name, product.Price, product.Stock, version);
}
