using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shards.Contracts;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Contracts.Events;
using Shards.Domain;
using Shards.Domain.Carts;
using Shards.Grains.Common;
using Shards.Grains.Events;
using Shards.Placement;

namespace Shards.Grains.Carts;

/// <summary>
/// One shopping cart, keyed by cart ID. Prices come from the catalog (<see cref="IProductGrain"/>) each time a line
/// is added or set: from this silo's leased copy of the product when it has one, as current as the product's grain
/// (<see cref="ProductReads"/>, docs/read-leases.md); the cart does not reserve stock (checkout does). A change is
/// acknowledged only once stored.
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

    private readonly StateCommands<CartState> _commands = new(state, StateNames.Cart, StorageNames.Carts);

    private DateTimeOffset _activatedAt;

    private ProductReads _products = null!;

    /// <summary>
    /// The stored state <see cref="_cart"/> and <see cref="_view"/> were built from. Every acknowledged write (and an
    /// activation's read) replaces the state object, so a different reference means the cache is stale.
    /// </summary>
    private CartState? _cachedFor;

    private Cart? _cart;

    private CartView? _view;

    private string What => $"cart {this.GetPrimaryKeyString()}";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = time.GetUtcNow();
        var grains = GrainFactory;
        _products = new ProductReads(sku => grains.GetGrain<IProductGrain>(sku), silo.SiloAddress, ServiceProvider.GetService<ProductReplicas>());
        return Task.CompletedTask;
    }

    public Task<CartView> AddAsync(string sku, int quantity, CancellationToken cancellationToken) =>
        _commands.RunAsync(this, What, async stored =>
        {
            var cart = CartOf(stored);
            RequireUnlocked(stored, cart);
            Identifiers.ValidateSku(sku);
            Cart.ValidateLineQuantity(quantity);
            var unitPrice = await CurrentPriceAsync(cart, sku);
            return Change(stored, cart, cart.Add(sku, quantity, unitPrice));
        });

    public Task<CartView> SetQuantityAsync(string sku, int quantity, CancellationToken cancellationToken) =>
        _commands.RunAsync(this, What, async stored =>
        {
            var cart = CartOf(stored);
            RequireUnlocked(stored, cart);
            Identifiers.ValidateSku(sku);
            Cart.ValidateQuantityToSet(quantity);
            var unitPrice = quantity == 0 ? 0m : await CurrentPriceAsync(cart, sku);
            return Change(stored, cart, cart.SetQuantity(sku, quantity, unitPrice));
        });

    public Task<CartView> RemoveAsync(string sku, CancellationToken cancellationToken) =>
        _commands.RunAsync(this, What, stored =>
        {
            var cart = CartOf(stored);
            RequireUnlocked(stored, cart);
            return ValueTask.FromResult(Change(stored, cart, cart.Remove(sku)));
        });

    /// <summary>
    /// Answers the view built after the last acknowledged write (or on the first read), without rebuilding it. After a
    /// write whose outcome is unknown it still answers the last acknowledged state (also while PostgreSQL is down): the
    /// next change reloads what is stored first.
    /// </summary>
    public Task<CartView> GetAsync(CancellationToken cancellationToken) => Task.FromResult(ViewOf(_commands.Acknowledged));

    public Task<CartView> ClearAsync(CancellationToken cancellationToken) =>
        _commands.RunAsync(this, What, stored =>
        {
            var cart = CartOf(stored);
            RequireUnlocked(stored, cart);
            return ValueTask.FromResult(Change(stored, cart, cart.Clear()));
        });

    public Task<CartView> BeginCheckoutAsync(string orderId, CancellationToken cancellationToken) =>
        _commands.RunAsync(this, What, stored =>
        {
            var cart = CartOf(stored);
            Identifiers.ValidateOrderId(orderId);
            if (stored.CheckoutOrderId == orderId)
            {
                return ValueTask.FromResult(Unchanged(stored, cart));
            }

            if (RecentIds.Contains(stored.PurchasedOrders, orderId))
            {
                throw new ShardsException(ShardsErrorCode.Conflict, $"Order {orderId} was already paid for cart {cart.CartId}; it cannot check it out again.");
            }

            RequireUnlocked(stored, cart);
            if (cart.IsEmpty)
            {
                throw new ShardsException(ShardsErrorCode.Conflict, $"Cart {cart.CartId} is empty: there is nothing to check out. Add a product first.");
            }

            return ValueTask.FromResult(Change(stored, cart, cart, checkoutOrderId: orderId));
        });

    public Task<CartView> CancelCheckoutAsync(string orderId, CancellationToken cancellationToken) =>
        _commands.RunAsync(this, What, stored =>
        {
            var cart = CartOf(stored);
            return ValueTask.FromResult(stored.CheckoutOrderId == orderId ? Change(stored, cart, cart, checkoutOrderId: new(null)) : Unchanged(stored, cart));
        });

    /// <summary>
    /// <c>purchased</c>: the order that locked this cart was paid, so the cart is emptied and unlocked, once. The lock
    /// is the token: a redelivered event finds the order among the purchased ones (or the cart no longer locked by it)
    /// and changes nothing, so lines added after the purchase are never lost to a late redelivery.
    /// </summary>
    public Task OnPurchasedAsync(PurchasedEvent purchased) =>
        _commands.RunAsync(this, What, stored =>
        {
            var cart = CartOf(stored);
            if (RecentIds.Contains(stored.PurchasedOrders, purchased.OrderId))
            {
                return ValueTask.FromResult(Unchanged(stored, cart));
            }

            if (stored.CheckoutOrderId != purchased.OrderId)
            {
                Log.PurchaseWithoutLock(logger, purchased.OrderId, cart.CartId, stored.CheckoutOrderId);
                return ValueTask.FromResult(Unchanged(stored, cart));
            }

            return ValueTask.FromResult(Change(
                stored, cart, cart.Clear(), checkoutOrderId: new(null), purchased: RecentIds.Add(stored.PurchasedOrders, purchased.OrderId, PurchasedOrdersRemembered)));
        });

    public Task<GrainLocation> WhereAsync(CancellationToken cancellationToken)
    {
        DomainRules.Check(() => Identifiers.ValidateCartId(this.GetPrimaryKeyString()));
        return Task.FromResult(GrainLocations.Of(this, silo, _activatedAt));
    }

    /// <summary>
    /// The stored cart as a domain object; validates the cart ID (the grain key) first. Rebuilt only when the stored
    /// state object changed since the last call (the cart is immutable, so the cached one is safe to share).
    /// </summary>
    private Cart CartOf(CartState stored)
    {
        if (_cart is not null && ReferenceEquals(_cachedFor, stored))
        {
            return _cart;
        }

        var cart = Restore(this.GetPrimaryKeyString(), stored);
        (_cachedFor, _cart, _view) = (stored, cart, null);
        return cart;
    }

    /// <summary>The view of a stored state, cached until the state object changes.</summary>
    private CartView ViewOf(CartState stored)
    {
        var cart = DomainRules.Check(() => CartOf(stored));
        return _view ??= View(stored, cart);
    }

    private async Task<decimal> CurrentPriceAsync(Cart cart, string sku)
    {
        var product = await _products.CurrentAsync(sku);
        return product?.Price ?? throw new ShardsException(
            ShardsErrorCode.NotFound, $"There is no product with SKU {sku}. Cart {cart.CartId} was not changed.");
    }

    /// <summary>Conflict while an order is checking the cart out: its lines are what that order pays for.</summary>
    private static void RequireUnlocked(CartState stored, Cart cart)
    {
        if (stored.CheckoutOrderId is { } orderId)
        {
            throw new ShardsException(
                ShardsErrorCode.Conflict,
                $"Cart {cart.CartId} is being checked out by order {orderId}; it can change again once that order is paid or has failed. Nothing changed.");
        }
    }

    private static Decision<CartState, CartView> Unchanged(CartState stored, Cart cart) => new(null, View(stored, cart));

    /// <summary>The state that stores <paramref name="next"/>; the checkout lock and purchased orders are kept unless given. No change: nothing to store.</summary>
    private Decision<CartState, CartView> Change(CartState stored, Cart current, Cart next, Optional<string?> checkoutOrderId = default, string[]? purchased = null)
    {
        if (ReferenceEquals(current, next) && !checkoutOrderId.HasValue && purchased is null)
        {
            return Unchanged(stored, current);
        }

        var changed = new CartState
        {
            Lines = next.Lines
                .Select(line => new CartLineState { Sku = line.Sku, Quantity = line.Quantity, UnitPrice = line.UnitPrice })
                .ToArray(),
            Version = stored.Version + 1,
            CheckoutOrderId = checkoutOrderId.HasValue ? checkoutOrderId.Value : stored.CheckoutOrderId,
            PurchasedOrders = purchased ?? stored.PurchasedOrders,
        };
        (_cachedFor, _cart, _view) = (changed, next, null);
        return new(changed, View(changed, next));
    }

    /// <summary>What <see cref="GetAsync"/> answers for a stored state of cart <paramref name="cartId"/>, read without activating it.</summary>
    internal static CartView StoredView(string cartId, CartState stored) => View(stored, Restore(cartId, stored));

    private static Cart Restore(string cartId, CartState stored) =>
        Cart.Restore(cartId, stored.Lines.Select(line => CartLine.Create(line.Sku, line.Quantity, line.UnitPrice)));

    /// <summary>The wire view. Lines is a plain array: Orleans has no codec for the compiler's collection-expression types.</summary>
    private static CartView View(CartState stored, Cart cart) => new(
        cart.CartId,
        cart.Lines.Select(line => new CartLineView(line.Sku, line.Quantity, line.UnitPrice, line.LineTotal)).ToArray(),
        cart.Total,
        stored.Version,
        stored.CheckoutOrderId,
        stored.PurchasedOrders);
}
