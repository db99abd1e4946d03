using Microsoft.Extensions.Logging;
using Shards.Contracts;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Domain;
using Shards.Domain.Carts;
using Shards.Contracts.Events;
using Shards.Grains.Common;
using Shards.Grains.Events;
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
[GrainType(TypeName)]
[ConsistentHashPlacement]
public sealed class CartGrain(
    [PersistentState(StateNames.Cart, StorageNames.Carts)] IPersistentState<CartState> state,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<CartGrain> logger) : Grain, ICartGrain
{
    /// <summary>The grain type: subscriptions and grain IDs (<c>cart/ID</c>) name it.</summary>
    public const string TypeName = "cart";

    /// <summary>How many purchased orders a cart remembers against redelivery.</summary>
    public const int PurchasedOrdersRemembered = 64;

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

    public async Task<CartView> AddAsync(string sku, int quantity, CancellationToken cancellationToken)
    {
        var cart = CurrentCart();
        if (RequestDeduplication.AlreadyApplied(state.State.AppliedRequests))
        {
            return View(cart, state.State.Version);
        }

        RequireUnlocked(cart);

        DomainRules.Check(() =>
        {
            Identifiers.ValidateSku(sku);
            Cart.ValidateLineQuantity(quantity);
        });
        var unitPrice = await CurrentPriceAsync(cart, sku);
        return await SaveAsync(cart, DomainRules.Check(() => cart.Add(sku, quantity, unitPrice)));
    }

    public async Task<CartView> SetQuantityAsync(string sku, int quantity, CancellationToken cancellationToken)
    {
        var cart = CurrentCart();
        if (RequestDeduplication.AlreadyApplied(state.State.AppliedRequests))
        {
            return View(cart, state.State.Version);
        }

        RequireUnlocked(cart);

        DomainRules.Check(() =>
        {
            Identifiers.ValidateSku(sku);
            Cart.ValidateQuantityToSet(quantity);
        });
        var unitPrice = quantity == 0 ? 0m : await CurrentPriceAsync(cart, sku);
        return await SaveAsync(cart, DomainRules.Check(() => cart.SetQuantity(sku, quantity, unitPrice)));
    }

    public async Task<CartView> RemoveAsync(string sku, CancellationToken cancellationToken)
    {
        var cart = CurrentCart();
        if (RequestDeduplication.AlreadyApplied(state.State.AppliedRequests))
        {
            return View(cart, state.State.Version);
        }

        RequireUnlocked(cart);

        return await SaveAsync(cart, DomainRules.Check(() => cart.Remove(sku)));
    }

    /// <summary>Answers the view built after the last acknowledged write (or on the first read), without rebuilding it.</summary>
    public Task<CartView> GetAsync(CancellationToken cancellationToken)
    {
        var cart = CurrentCart();
        return Task.FromResult(_view ??= View(cart, state.State.Version));
    }

    public async Task<CartView> ClearAsync(CancellationToken cancellationToken)
    {
        var cart = CurrentCart();
        if (RequestDeduplication.AlreadyApplied(state.State.AppliedRequests))
        {
            return View(cart, state.State.Version);
        }

        RequireUnlocked(cart);

        return await SaveAsync(cart, cart.Clear());
    }

    public async Task<CartView> BeginCheckoutAsync(string orderId, CancellationToken cancellationToken)
    {
        var cart = CurrentCart();
        DomainRules.Check(() => Identifiers.ValidateOrderId(orderId));
        var stored = state.State;
        if (stored.CheckoutOrderId == orderId)
        {
            return View(cart, stored.Version);
        }

        if (RecentIds.Contains(stored.PurchasedOrders, orderId))
        {
            throw new ShardsException(ShardsErrorCode.Conflict, $"Order {orderId} was already paid for cart {cart.CartId}; it cannot check it out again.");
        }

        RequireUnlocked(cart);
        if (cart.IsEmpty)
        {
            throw new ShardsException(ShardsErrorCode.Conflict, $"Cart {cart.CartId} is empty: there is nothing to check out. Add a product first.");
        }

        return await SaveAsync(cart, cart, checkoutOrderId: orderId);
    }

    public async Task<CartView> CancelCheckoutAsync(string orderId, CancellationToken cancellationToken)
    {
        var cart = CurrentCart();
        return state.State.CheckoutOrderId == orderId ? await SaveAsync(cart, cart, checkoutOrderId: new(null)) : View(cart, state.State.Version);
    }

    /// <summary>
    /// <c>purchased</c>: the order that locked this cart was paid, so the cart is emptied and unlocked, once. The lock
    /// is the token: a redelivered event finds the order among the purchased ones (or the cart no longer locked by it)
    /// and changes nothing, so lines added after the purchase are never lost to a late redelivery.
    /// </summary>
    public async Task OnPurchasedAsync(PurchasedEvent purchased)
    {
        var cart = CurrentCart();
        var stored = state.State;
        if (RecentIds.Contains(stored.PurchasedOrders, purchased.OrderId))
        {
            return;
        }

        if (stored.CheckoutOrderId != purchased.OrderId)
        {
            Log.PurchaseWithoutLock(logger, purchased.OrderId, cart.CartId, stored.CheckoutOrderId);
            return;
        }

        await SaveAsync(cart, cart.Clear(), checkoutOrderId: new(null), purchased: RecentIds.Add(stored.PurchasedOrders, purchased.OrderId, PurchasedOrdersRemembered));
    }

    public Task<GrainLocation> WhereAsync(CancellationToken cancellationToken)
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

    /// <summary>Conflict while an order is checking the cart out: its lines are what that order pays for.</summary>
    private void RequireUnlocked(Cart cart)
    {
        if (state.State.CheckoutOrderId is { } orderId)
        {
            throw new ShardsException(
                ShardsErrorCode.Conflict,
                $"Cart {cart.CartId} is being checked out by order {orderId}; it can change again once that order is paid or has failed. Nothing changed.");
        }
    }

    /// <summary>Stores <paramref name="next"/>; the checkout lock and purchased orders are kept unless given.</summary>
    private async Task<CartView> SaveAsync(Cart current, Cart next, Optional<string?> checkoutOrderId = default, string[]? purchased = null)
    {
        var previous = state.State;
        if (ReferenceEquals(current, next) && !checkoutOrderId.HasValue && purchased is null)
        {
            return View(current, previous.Version);
        }

        var stored = new CartState
        {
            Lines = next.Lines
                .Select(line => new CartLineState { Sku = line.Sku, Quantity = line.Quantity, UnitPrice = line.UnitPrice })
                .ToArray(),
            Version = previous.Version + 1,
            AppliedRequests = RequestDeduplication.Record(previous.AppliedRequests),
            CheckoutOrderId = checkoutOrderId.HasValue ? checkoutOrderId.Value : previous.CheckoutOrderId,
            PurchasedOrders = purchased ?? previous.PurchasedOrders,
        };
        await state.CommitAsync(stored, this, logger, $"cart {next.CartId}");
        var view = View(next, stored.Version);
        (_cachedFor, _cart, _view) = (stored, next, view);
        return view;
    }

    /// <summary>The wire view. Lines is a plain array: Orleans has no codec for the compiler's collection-expression types.</summary>
    private CartView View(Cart cart, long version) => new(
        cart.CartId,
        cart.Lines.Select(line => new CartLineView(line.Sku, line.Quantity, line.UnitPrice, line.LineTotal)).ToArray(),
        cart.Total,
        version,
        state.State.CheckoutOrderId,
        state.State.PurchasedOrders);
}
