using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shards.Contracts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Contracts.Events;
using Shards.Domain;
using Shards.Domain.Catalog;
using Shards.Grains.Common;
using Shards.Grains.Events;
using Shards.Placement;

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

    private readonly StateCommands<ProductState> _commands = new(state, StateNames.Product, StorageNames.Catalog);

    /// <summary>The silos holding a copy of this product under a read lease; null when read leases are off in this silo.</summary>
    private ProductReadLeases? _leases;

    private DateTimeOffset _activatedAt;

    /// <summary>The stored state <see cref="_snapshot"/> was built from (every acknowledged write replaces the state object).</summary>
    private ProductState? _snapshotOf;

    private ProductSnapshot? _snapshot;

    /// <summary>The stored state <see cref="_product"/> was restored from.</summary>
    private ProductState? _productOf;

    private Product? _product;

    private string What => $"product {this.GetPrimaryKeyString()}";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = time.GetUtcNow();
        if (ServiceProvider.GetService<ProductReadLeaseGrants>() is { } grants)
        {
            var leases = _leases = new ProductReadLeases(grants, this.GetPrimaryKeyString());
            _commands.BeforeChange = leases.RevokeAllAsync; // every copy is dropped before the product changes
            if (state.State.Version > 0)
            {
                leases.CoverEarlierActivations();
            }
        }

        return Task.CompletedTask;
    }

    public Task<ProductSnapshot> UpsertAsync(ProductDefinition definition, CancellationToken cancellationToken) =>
        _commands.RunAsync(this, What, stored =>
        {
            var sku = ValidSku();
            if (definition is null)
            {
                throw new ShardsException(ShardsErrorCode.Validation, $"A product definition (name, price, stock) is required to create or change {sku}.");
            }

            var current = ProductOf(stored, sku);
            var next = current is null
                ? Product.Create(sku, definition.Name, definition.Price, definition.Stock)
                : current.Update(definition.Name, definition.Price, definition.Stock);
            return Done(Change(stored, current, next));
        });

    /// <summary>
    /// Answers the snapshot built after the last acknowledged write (or on the first read), without rebuilding it. After
    /// a write whose outcome is unknown it still answers the last acknowledged state (also while PostgreSQL is down):
    /// the next change reloads what is stored first.
    /// </summary>
    public Task<ProductSnapshot?> GetAsync(CancellationToken cancellationToken) => Task.FromResult(SnapshotOf(_commands.Acknowledged));

    /// <summary>
    /// <see cref="GetAsync"/> with a read lease for <paramref name="holder"/>; none while read leases are off, for a product
    /// that does not exist, or while the last write's outcome is unknown (the reload may show another state).
    /// </summary>
    public Task<LeasedProduct> ReadLeasedAsync(SiloAddress holder, CancellationToken cancellationToken)
    {
        var product = SnapshotOf(_commands.Acknowledged);
        var lease = product is null || _commands.NeedsReload || _leases is null || holder is null ? TimeSpan.Zero : _leases.Grant(holder);
        return Task.FromResult(new LeasedProduct(product, lease));
    }

    public Task<ProductSnapshot> ReserveAsync(int quantity, CancellationToken cancellationToken) =>
        _commands.RunAsync(this, What, stored =>
        {
            var current = ExistingProduct(stored, "Nothing was reserved.");
            return Done(Change(stored, current, current.Reserve(quantity)));
        });

    public Task<ProductSnapshot> ReleaseAsync(int quantity, CancellationToken cancellationToken) =>
        _commands.RunAsync(this, What, stored =>
        {
            var current = ExistingProduct(stored, "Nothing was released.");
            return Done(Change(stored, current, current.Release(quantity)));
        });

    public Task<ProductSnapshot> ReserveForOrderAsync(string orderId, int quantity, CancellationToken cancellationToken) =>
        _commands.RunAsync(this, What, stored =>
        {
            var current = ExistingProduct(stored, "Nothing was reserved.");
            Identifiers.ValidateOrderId(orderId);
            if (RecentIds.Contains(stored.SettledOrders, orderId))
            {
                return Done(Unchanged(stored, current)); // reserved once per order, whatever is re-sent
            }

            // A repeat while the reservation is held is this product unchanged: nothing is written.
            return Done(Change(stored, current, current.ReserveForOrder(orderId, quantity)));
        });

    public Task<ProductSnapshot> ReleaseOrderAsync(string orderId, CancellationToken cancellationToken) =>
        _commands.RunAsync(this, What, stored =>
        {
            var current = ExistingProduct(stored, "Nothing was released.");
            Identifiers.ValidateOrderId(orderId);
            if (RecentIds.Contains(stored.SettledOrders, orderId))
            {
                return Done(Unchanged(stored, current));
            }

            // Settled even when nothing was reserved: a reserve of this order still in flight must not land afterwards.
            return Done(Change(stored, current, current.ReleaseOrder(orderId), force: true, settled: RecentIds.Add(stored.SettledOrders, orderId, SettledOrdersRemembered)));
        });

    /// <summary>
    /// <c>purchased</c>: the order's reservation of this product becomes sold units. Idempotent: the reservation is
    /// consumed once, and a redelivered event finds none (the order is then among the settled ones).
    /// </summary>
    public Task OnPurchasedAsync(PurchasedEvent purchased) =>
        _commands.RunAsync(this, What, stored =>
        {
            var current = ExistingProduct(stored, "Nothing was sold.");
            var next = current.Sell(purchased.OrderId);
            if (ReferenceEquals(next, current))
            {
                if (!RecentIds.Contains(stored.SettledOrders, purchased.OrderId))
                {
                    Log.PurchaseWithoutReservation(logger, purchased.OrderId, current.Sku);
                }

                return Done(Unchanged(stored, current));
            }

            return Done(Change(stored, current, next, force: true, settled: RecentIds.Add(stored.SettledOrders, purchased.OrderId, SettledOrdersRemembered)));
        });

    public Task<GrainLocation> WhereAsync(CancellationToken cancellationToken)
    {
        ValidSku();
        return Task.FromResult(GrainLocations.Of(this, silo, _activatedAt));
    }

    private string ValidSku() => DomainRules.Check(() => Identifiers.ValidateSku(this.GetPrimaryKeyString()));

    /// <summary>The stored product as a domain object (null when never created), restored once per stored state object.</summary>
    private Product? ProductOf(ProductState stored, string sku)
    {
        if (stored.Version == 0)
        {
            return null;
        }

        if (!ReferenceEquals(_productOf, stored))
        {
            _product = Restore(sku, stored);
            _productOf = stored;
        }

        return _product;
    }

    private Product ExistingProduct(ProductState stored, string nothingChanged)
    {
        var sku = ValidSku();
        return ProductOf(stored, sku)
            ?? throw new ShardsException(ShardsErrorCode.NotFound, $"There is no product with SKU {sku}. {nothingChanged}");
    }

    private ProductSnapshot? SnapshotOf(ProductState stored)
    {
        if (_snapshot is not null && ReferenceEquals(_snapshotOf, stored))
        {
            return _snapshot;
        }

        var product = DomainRules.Check(() => ProductOf(stored, ValidSku()));
        if (product is null)
        {
            return null;
        }

        (_snapshotOf, _snapshot) = (stored, Snapshot(stored, product));
        return _snapshot;
    }

    private static ValueTask<Decision<ProductState, ProductSnapshot>> Done(Decision<ProductState, ProductSnapshot> decision) => ValueTask.FromResult(decision);

    private static Decision<ProductState, ProductSnapshot> Unchanged(ProductState stored, Product product) => new(null, Snapshot(stored, product));

    /// <summary>
    /// The state that stores <paramref name="next"/> (its units included) with the settled orders (kept as they are
    /// unless given). Nothing to store when the product did not change, unless <paramref name="force"/> (the bookkeeping changed).
    /// </summary>
    private Decision<ProductState, ProductSnapshot> Change(ProductState stored, Product? current, Product next, bool force = false, string[]? settled = null)
    {
        if (ReferenceEquals(current, next) && !force)
        {
            return Unchanged(stored, next);
        }

        var changed = new ProductState
        {
            Name = next.Name,
            Price = next.Price,
            Stock = next.Stock,
            Version = stored.Version + 1,
            Reservations = next.Reservations.Select(r => new OrderReservation { OrderId = r.Key, Quantity = r.Value }).ToArray(),
            SettledOrders = settled ?? stored.SettledOrders,
            Sold = next.Sold,
            ReservedOutsideOrders = next.ReservedOutsideOrders,
        };
        (_productOf, _product) = (changed, next);
        return new(changed, Snapshot(changed, next));
    }

    /// <summary>What <see cref="GetAsync"/> answers for a stored state of product <paramref name="sku"/> (null: no such product), read without activating it.</summary>
    internal static ProductSnapshot? StoredSnapshot(string sku, ProductState stored) =>
        stored.Version == 0 ? null : Snapshot(stored, Restore(sku, stored));

    private static Product Restore(string sku, ProductState stored) =>
        Product.Restore(sku, stored.Name, stored.Price, stored.Stock, stored.ReservedOutsideOrders, stored.Reservations.Select(r => KeyValuePair.Create(r.OrderId, r.Quantity)), stored.Sold);

    private static ProductSnapshot Snapshot(ProductState stored, Product product) =>
        new(product.Sku, product.Name, product.Price, product.Stock, stored.Version, product.Reserved, product.Sold, product.ReservedOutsideOrders);
}
