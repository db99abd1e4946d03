namespace Shards.Load;

/// <summary>
/// What a load run calls: the store, behind some client path. Today the Orleans client
/// (<see cref="OrleansLoadTarget"/>); the HTTP front will be a second implementation. Every method is one request:
/// the runner counts a call that throws as a failed transaction and never retries it.
/// </summary>
public interface ILoadTarget
{
    /// <summary>Short name for the report, e.g. <c>orleans</c>.</summary>
    string Name { get; }

    /// <summary>Creates the product or replaces its name, price and stock (idempotent).</summary>
    Task UpsertProductAsync(string sku, string name, decimal price, int stock, CancellationToken cancellationToken);

    /// <summary>The product's name, or null when there is no such product.</summary>
    Task<string?> ReadProductNameAsync(string sku, CancellationToken cancellationToken);

    /// <summary>The cart's quantity per SKU (empty for a cart never written). The read transaction.</summary>
    Task<IReadOnlyDictionary<string, int>> ReadCartAsync(string cartId, CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="quantity"/> units of a product to a cart. The write transaction.</summary>
    Task AddToCartAsync(string cartId, string sku, int quantity, CancellationToken cancellationToken);

    /// <summary>Empties a cart.</summary>
    Task ClearCartAsync(string cartId, CancellationToken cancellationToken);

    /// <summary>The name of the silo that hosts the cart now, or null when the target cannot tell.</summary>
    Task<string?> LocateCartAsync(string cartId, CancellationToken cancellationToken);
}
