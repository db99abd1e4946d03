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
        var stored = state.State;
        if (FindReservation(orderId) is not null || RecentIds.Contains(stored.SettledOrders, orderId))
        {
            return Snapshot(current, stored.Version); // reserved once per order, whatever is re-sent
        }

        var next = DomainRules.Check(() => current.Reserve(quantity));
        return await SaveAsync(current, next, force: true, reservations: [.. stored.Reservations, new OrderReservation { OrderId = orderId, Quantity = quantity }]);
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
        var reservation = FindReservation(orderId);
        var next = reservation is null ? current : DomainRules.Check(() => current.Release(reservation.Quantity));
        return await SaveAsync(
            current, next, force: true,
            reservations: stored.Reservations.Where(r => r.OrderId != orderId).ToArray(),
            settled: RecentIds.Add(stored.SettledOrders, orderId, SettledOrdersRemembered));
    }

    /// <summary>
    /// <c>purchased</c>: the order's reservation of this product becomes sold units. Idempotent: the reservation is
    /// consumed once, and a redelivered event finds none (the order is then among the settled ones).
    /// </summary>
    public async Task OnPurchasedAsync(PurchasedEvent purchased)
    {
        var current = ExistingProduct("Nothing was sold.");
        var reservation = FindReservation(purchased.OrderId);
        if (reservation is null)
        {
            if (!RecentIds.Contains(state.State.SettledOrders, purchased.OrderId))
            {
                Log.PurchaseWithoutReservation(logger, purchased.OrderId, current.Sku);
            }

            return;
        }

        var stored = state.State;
        await SaveAsync(
            current, current, force: true,
            reservations: stored.Reservations.Where(r => r.OrderId != purchased.OrderId).ToArray(),
            settled: RecentIds.Add(stored.SettledOrders, purchased.OrderId, SettledOrdersRemembered),
            sold: stored.Sold + reservation.Quantity);
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
        return stored.Version == 0 ? null : DomainRules.Check(() => Product.Create(sku, stored.Name, stored.Price, stored.Stock));
    }

    private Product ExistingProduct(string nothingChanged)
    {
        var sku = ValidSku();
        return CurrentProduct(sku)
            ?? throw new ShardsException(ShardsErrorCode.NotFound, $"There is no product with SKU {sku}. {nothingChanged}");
    }

    private OrderReservation? FindReservation(string orderId) => Array.Find(state.State.Reservations, r => r.OrderId == orderId);

    /// <summary>
    /// Stores <paramref name="next"/> with the order bookkeeping (kept as it is unless given). Nothing is written when
    /// the product did not change, unless <paramref name="force"/> (the bookkeeping changed).
    /// </summary>
    private async Task<ProductSnapshot> SaveAsync(
        Product? current, Product next, bool force = false, OrderReservation[]? reservations = null, string[]? settled = null, long? sold = null)
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
            Reservations = reservations ?? previous.Reservations,
            SettledOrders = settled ?? previous.SettledOrders,
            Sold = sold ?? previous.Sold,
        };
        await state.CommitAsync(stored, this, logger, $"product {next.Sku}");
        (_snapshotOf, _snapshot) = (stored, Snapshot(next, stored.Version));
        return _snapshot;
    }

    private ProductSnapshot Snapshot(Product product, long version) =>
        new(product.Sku, product.Name, product.Price, product.Stock, version, state.State.Reservations.Sum(r => r.Quantity), state.State.Sold);
}
