using Microsoft.Extensions.Logging;
using Shards.Contracts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Domain;
using Shards.Domain.Catalog;
using Shards.Contracts.Events;
using Shards.Grains.Common;
using Shards.Grains.Events;
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
[GrainType(TypeName)]
[ConsistentHashPlacement]
public sealed class ProductGrain(
    [PersistentState(StateNames.Product, StorageNames.Catalog)] IPersistentState<ProductState> state,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<ProductGrain> logger) : Grain, IProductGrain
{
    /// <summary>The grain type: subscriptions and grain IDs (<c>product/SKU</c>) name it.</summary>
    public const string TypeName = "product";

    /// <summary>How many settled orders a product remembers against a late repeat of their reserve.</summary>
    public const int SettledOrdersRemembered = 256;

    private DateTimeOffset _activatedAt;

    /// <summary>The stored state <see cref="_snapshot"/> was built from (every acknowledged write replaces the state object).</summary>
    private ProductState? _snapshotOf;

    private ProductSnapshot? _snapshot;

    /// <summary>The stored state <see cref="_product"/> was restored from.</summary>
    private ProductState? _productOf;

    private Product? _product;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = time.GetUtcNow();
        return Task.CompletedTask;
    }

    public async Task<ProductSnapshot> UpsertAsync(ProductDefinition definition, CancellationToken cancellationToken)
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
    public Task<ProductSnapshot?> GetAsync(CancellationToken cancellationToken)
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

    public async Task<ProductSnapshot> ReserveAsync(int quantity, CancellationToken cancellationToken)
    {
        var current = ExistingProduct("Nothing was reserved.");
        if (RequestDeduplication.AlreadyApplied(state.State.AppliedRequests))
        {
            return Snapshot(current, state.State.Version);
        }

        return await SaveAsync(current, DomainRules.Check(() => current.Reserve(quantity)));
    }

    public async Task<ProductSnapshot> ReleaseAsync(int quantity, CancellationToken cancellationToken)
    {
        var current = ExistingProduct("Nothing was released.");
        if (RequestDeduplication.AlreadyApplied(state.State.AppliedRequests))
        {
            return Snapshot(current, state.State.Version);
        }

        return await SaveAsync(current, DomainRules.Check(() => current.Release(quantity)));
    }

    public async Task<ProductSnapshot> ReserveForOrderAsync(string orderId, int quantity, CancellationToken cancellationToken)
    {
        var current = ExistingProduct("Nothing was reserved.");
        DomainRules.Check(() => Identifiers.ValidateOrderId(orderId));
        if (RecentIds.Contains(state.State.SettledOrders, orderId))
        {
            return Snapshot(current, state.State.Version); // reserved once per order, whatever is re-sent
        }

        // A repeat while the reservation is held is this product unchanged: nothing is written.
        return await SaveAsync(current, DomainRules.Check(() => current.ReserveForOrder(orderId, quantity)));
    }

    public async Task<ProductSnapshot> ReleaseOrderAsync(string orderId, CancellationToken cancellationToken)
    {
        var current = ExistingProduct("Nothing was released.");
        DomainRules.Check(() => Identifiers.ValidateOrderId(orderId));
        var stored = state.State;
        if (RecentIds.Contains(stored.SettledOrders, orderId))
        {
            return Snapshot(current, stored.Version);
        }

        // Settled even when nothing was reserved: a reserve of this order still in flight must not land afterwards.
        var next = DomainRules.Check(() => current.ReleaseOrder(orderId));
        return await SaveAsync(current, next, force: true, settled: RecentIds.Add(stored.SettledOrders, orderId, SettledOrdersRemembered));
    }

    /// <summary>
    /// <c>purchased</c>: the order's reservation of this product becomes sold units. Idempotent: the reservation is
    /// consumed once, and a redelivered event finds none (the order is then among the settled ones).
    /// </summary>
    public async Task OnPurchasedAsync(PurchasedEvent purchased)
    {
        var current = ExistingProduct("Nothing was sold.");
        var next = DomainRules.Check(() => current.Sell(purchased.OrderId));
        var stored = state.State;
        if (ReferenceEquals(next, current))
        {
            if (!RecentIds.Contains(stored.SettledOrders, purchased.OrderId))
            {
                Log.PurchaseWithoutReservation(logger, purchased.OrderId, current.Sku);
            }

            return;
        }

        await SaveAsync(current, next, force: true, settled: RecentIds.Add(stored.SettledOrders, purchased.OrderId, SettledOrdersRemembered));
    }

    public Task<GrainLocation> WhereAsync(CancellationToken cancellationToken)
    {
        ValidSku();
        return Task.FromResult(GrainLocations.Of(this, silo, _activatedAt));
    }

    private string ValidSku() => DomainRules.Check(() => Identifiers.ValidateSku(this.GetPrimaryKeyString()));

    private Product? CurrentProduct(string sku)
    {
        var stored = state.State;
        if (stored.Version == 0)
        {
            return null;
        }

        if (!ReferenceEquals(_productOf, stored))
        {
            var reservations = stored.Reservations.Select(r => KeyValuePair.Create(r.OrderId, r.Quantity));
            _product = DomainRules.Check(() => Product.Restore(sku, stored.Name, stored.Price, stored.Stock, stored.ReservedOutsideOrders, reservations, stored.Sold));
            _productOf = stored;
        }

        return _product;
    }

    private Product ExistingProduct(string nothingChanged)
    {
        var sku = ValidSku();
        return CurrentProduct(sku)
            ?? throw new ShardsException(ShardsErrorCode.NotFound, $"There is no product with SKU {sku}. {nothingChanged}");
    }

    /// <summary>
    /// Stores <paramref name="next"/> (its units included) with the settled orders (kept as they are unless given).
    /// Nothing is written when the product did not change, unless <paramref name="force"/> (the bookkeeping changed).
    /// </summary>
    private async Task<ProductSnapshot> SaveAsync(Product? current, Product next, bool force = false, string[]? settled = null)
    {
        var previous = state.State;
        if (ReferenceEquals(current, next) && !force)
        {
            return Snapshot(next, previous.Version);
        }

        var stored = new ProductState
        {
            Name = next.Name,
            Price = next.Price,
            Stock = next.Stock,
            Version = previous.Version + 1,
            AppliedRequests = RequestDeduplication.Record(previous.AppliedRequests),
            Reservations = next.Reservations.Select(r => new OrderReservation { OrderId = r.Key, Quantity = r.Value }).ToArray(),
            SettledOrders = settled ?? previous.SettledOrders,
            Sold = next.Sold,
            ReservedOutsideOrders = next.ReservedOutsideOrders,
        };
        await state.CommitAsync(stored, this, logger, $"product {next.Sku}");
        (_productOf, _product) = (stored, next);
        (_snapshotOf, _snapshot) = (stored, Snapshot(next, stored.Version));
        return _snapshot;
    }

    private static ProductSnapshot Snapshot(Product product, long version) =>
        new(product.Sku, product.Name, product.Price, product.Stock, version, product.Reserved, product.Sold, product.ReservedOutsideOrders);
}
