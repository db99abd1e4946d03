using Microsoft.Extensions.Logging;
using Shards.Contracts;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Domain;
using Shards.Domain.Carts;
using Shards.Grains.Common;
using Shards.Grains.Placement;

namespace Shards.Grains.Carts;

/// <summary>
/// One shopping cart, keyed by cart ID. Prices come from the catalog (<see cref="IProductGrain"/>) each time a line
/// is added or set; the cart does not reserve stock (checkout does). A change is acknowledged only once stored.
/// </summary>
/// <remarks>
/// Consistent-hash placement: each cart lives on its home silo on a ring over the live silos (docs/sharding.md),
/// so carts spread evenly and predictably, and when a silo joins or leaves only ~1/N of them move (the default
/// resource-optimised placement puts most new keys on one silo; Orleans' hash-based placement moves ~3/4 on a join).
/// </remarks>
[GrainType("cart")]
[ConsistentHashPlacement]
public sealed class CartGrain(
    [PersistentState(StateNames.Cart, StorageNames.Carts)] IPersistentState<CartState> state,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<CartGrain> logger) : Grain, ICartGrain
{
    private DateTimeOffset _activatedAt;

    /// <summary>
    /// The stored state <see cref="_cart"/> and <see cref="_view"/> were built from. Every acknowledged write (and an
    /// activation's read) replaces the state object, so a different reference means the cache is stale.
    /// </summary>
    private CartState? _cachedFor;

    private Cart? _cart;

    private CartView? _view;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = time.GetUtcNow();
        return Task.CompletedTask;
    }

    public async Task<CartView> AddAsync(string sku, int quantity)
    {
        var cart = CurrentCart();
        if (RequestDeduplication.AlreadyApplied(state.State.AppliedRequests))
        {
            return View(cart, state.State.Version);
        }

        DomainRules.Check(() =>
        {
            Identifiers.ValidateSku(sku);
            Cart.ValidateLineQuantity(quantity);
        });
        var unitPrice = await CurrentPriceAsync(cart, sku);
        return await SaveAsync(cart, DomainRules.Check(() => cart.Add(sku, quantity, unitPrice)));
    }

    public async Task<CartView> SetQuantityAsync(string sku, int quantity)
    {
        var cart = CurrentCart();
        if (RequestDeduplication.AlreadyApplied(state.State.AppliedRequests))
        {
            return View(cart, state.State.Version);
        }

        DomainRules.Check(() =>
        {
            Identifiers.ValidateSku(sku);
            Cart.ValidateQuantityToSet(quantity);
        });
        var unitPrice = quantity == 0 ? 0m : await CurrentPriceAsync(cart, sku);
        return await SaveAsync(cart, DomainRules.Check(() => cart.SetQuantity(sku, quantity, unitPrice)));
    }

    public async Task<CartView> RemoveAsync(string sku)
    {
        var cart = CurrentCart();
        if (RequestDeduplication.AlreadyApplied(state.State.AppliedRequests))
        {
            return View(cart, state.State.Version);
        }

        return await SaveAsync(cart, DomainRules.Check(() => cart.Remove(sku)));
    }

    /// <summary>Answers the view built after the last acknowledged write (or on the first read), without rebuilding it.</summary>
    public Task<CartView> GetAsync()
    {
        var cart = CurrentCart();
        return Task.FromResult(_view ??= View(cart, state.State.Version));
    }

    public async Task<CartView> ClearAsync()
    {
        var cart = CurrentCart();
        if (RequestDeduplication.AlreadyApplied(state.State.AppliedRequests))
        {
            return View(cart, state.State.Version);
        }

        return await SaveAsync(cart, cart.Clear());
    }

    public Task<GrainLocation> WhereAsync()
    {
        DomainRules.Check(() => Identifiers.ValidateCartId(this.GetPrimaryKeyString()));
        return Task.FromResult(GrainLocations.Of(this, silo, _activatedAt));
    }

    /// <summary>
    /// The stored cart as a domain object; validates the cart ID (the grain key) first. Rebuilt only when the stored
    /// state object changed since the last call (the cart is immutable, so the cached one is safe to share).
    /// </summary>
    private Cart CurrentCart()
    {
        var stored = state.State;
        if (_cart is not null && ReferenceEquals(_cachedFor, stored))
        {
            return _cart;
        }

        var cart = DomainRules.Check(() => Cart.Restore(
            this.GetPrimaryKeyString(),
            stored.Lines.Select(line => CartLine.Create(line.Sku, line.Quantity, line.UnitPrice))));
        (_cachedFor, _cart, _view) = (stored, cart, null);
        return cart;
    }

    private async Task<decimal> CurrentPriceAsync(Cart cart, string sku)
    {
        var product = await GrainFactory.GetGrain<IProductGrain>(sku).GetAsync();
        return product?.Price ?? throw new ShardsException(
            ShardsErrorCode.NotFound, $"There is no product with SKU {sku}. Cart {cart.CartId} was not changed.");
    }

    private async Task<CartView> SaveAsync(Cart current, Cart next)
    {
        var version = state.State.Version;
        if (ReferenceEquals(current, next))
        {
            return View(current, version);
        }

        var stored = new CartState
        {
            Lines = next.Lines
                .Select(line => new CartLineState { Sku = line.Sku, Quantity = line.Quantity, UnitPrice = line.UnitPrice })
                .ToArray(),
            Version = version + 1,
            AppliedRequests = RequestDeduplication.Record(state.State.AppliedRequests),
        };
        await state.CommitAsync(stored, this, logger, $"cart {next.CartId}");
        var view = View(next, stored.Version);
        (_cachedFor, _cart, _view) = (stored, next, view);
        return view;
    }

    /// <summary>The wire view. Lines is a plain array: Orleans has no codec for the compiler's collection-expression types.</summary>
    private static CartView View(Cart cart, long version) => new(
        cart.CartId,
        cart.Lines.Select(line => new CartLineView(line.Sku, line.Quantity, line.UnitPrice, line.LineTotal)).ToArray(),
        cart.Total,
        version);
}
