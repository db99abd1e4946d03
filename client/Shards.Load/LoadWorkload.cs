namespace Shards.Load;

/// <summary>
/// The load run's data: carts <c>load-cart-00001..</c> and products <c>load-sku-001..load-sku-020</c>. A cart is
/// written through <see cref="SkusPerCart"/> of the products (its "slots"; all <see cref="Products"/> when there are
/// fewer than <see cref="WideBelowKeys"/> carts, so that a hot cart's lines do not fill up within a long run), so a
/// cart keeps few lines and every (cart, SKU) pair gets enough writes to make a lost or doubled one visible. For the history checker each (cart, SKU)
/// line is a counter and each product a register whose value is the write sequence number in its name
/// (<see cref="ProductName"/>): every upsert writes a name no other write wrote.
/// </summary>
public sealed class LoadWorkload(int keys)
{
    public const int Products = 20;
    public const int ProductStock = 1_000_000;

    /// <summary>With fewer carts than this, each cart is written through every product (20 lines of 10,000 each).</summary>
    public const int WideBelowKeys = 4;

    /// <summary>A line this full is emptied before a run, so that reruns stay far from the cart's per-line maximum.</summary>
    public const int ResetLineAbove = 5_000;

    public int Keys { get; } = keys;

    /// <summary>The products a cart is written through: 5, or all of them for a few (hot) carts.</summary>
    public int SkusPerCart { get; } = keys < WideBelowKeys ? Products : 5;

    /// <summary>Number of (cart, slot) pairs.</summary>
    public int Cells => Keys * SkusPerCart;

    /// <summary>The ID of cart <paramref name="cart"/> (0-based): <c>load-cart-00001</c> for 0.</summary>
    public static string CartId(int cart) => $"load-cart-{cart + 1:D5}";

    /// <summary>The SKU of product <paramref name="product"/> (1-based): <c>load-sku-001</c>.</summary>
    public static string Sku(int product) => $"load-sku-{product:D3}";

    public static IEnumerable<string> AllSkus() => Enumerable.Range(1, Products).Select(Sku);

    /// <summary>The SKU a cart's <paramref name="slot"/> writes: different products per cart, spread over all.</summary>
    public string SkuOf(int cart, int slot) => Sku(1 + ((cart + slot * (Products / SkusPerCart)) % Products));

    public int Cell(int cart, int slot) => cart * SkusPerCart + slot;

    /// <summary>The product whose upserts and reads go with cart <paramref name="cart"/> (1-based): one product per cart while carts last.</summary>
    public static int ProductOf(int cart) => 1 + (cart % Products);

    /// <summary>A product's name carrying write <paramref name="sequence"/>: <c>Load product 3 #17</c>.</summary>
    public static string ProductName(int product, long sequence) => $"Load product {product} #{sequence}";

    /// <summary>
    /// The write sequence number in a product's name; null for no product; -1 for a name no <see cref="ProductName"/>
    /// wrote (a value the checker will find no write for).
    /// </summary>
    public static long? ProductValue(string? name)
    {
        if (name is null)
        {
            return null;
        }

        var hash = name.LastIndexOf('#');
        return hash >= 0 && long.TryParse(name.AsSpan(hash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : -1;
    }

    /// <summary>The history key of a cart's line: <c>cart load-cart-00001/load-sku-001</c>.</summary>
    public string LineKey(int cart, int slot) => $"cart {CartId(cart)}/{SkuOf(cart, slot)}";

    /// <summary>The history key of a product: <c>product load-sku-001</c>.</summary>
    public static string ProductKey(int product) => $"product {Sku(product)}";

    /// <summary>The quantities of a cart's slots in a cart as read (0 for a missing line).</summary>
    public int[] SlotQuantities(int cart, IReadOnlyDictionary<string, int> lines) =>
        Enumerable.Range(0, SkusPerCart).Select(slot => lines.GetValueOrDefault(SkuOf(cart, slot))).ToArray();
}

/// <summary>
/// Counts, per (cart, SKU), the writes that were acknowledged and those that failed (outcome unknown: the call threw
/// or had not answered when the run ended, so the add may or may not have been applied). Thread-safe.
/// </summary>
public sealed class WriteLedger(int cells)
{
    private readonly long[] _acknowledged = new long[cells];
    private readonly long[] _failed = new long[cells];

    public void Acknowledged(int cell) => Interlocked.Increment(ref _acknowledged[cell]);

    public void Failed(int cell) => Interlocked.Increment(ref _failed[cell]);

    public long AcknowledgedAt(int cell) => Interlocked.Read(ref _acknowledged[cell]);

    public long FailedAt(int cell) => Interlocked.Read(ref _failed[cell]);

    public bool Touched(int cell) => AcknowledgedAt(cell) + FailedAt(cell) > 0;
}

/// <summary>
/// One (cart, SKU) after the run. Every write adds exactly 1, so the line grew by <see cref="Actual"/> applied writes.
/// Fewer than acknowledged means an acknowledged write was lost; more than acknowledged plus failed means some write
/// was applied twice (a failed write may or may not have landed, so it can explain one unit each, no more).
/// </summary>
public readonly record struct WriteCell(long Acknowledged, long Failed, long Initial, long Final)
{
    public long Actual => Final - Initial;

    /// <summary>Acknowledged writes missing (all of them when the line shrank below where it started).</summary>
    public long Lost => Math.Clamp(Acknowledged - Actual, 0, Acknowledged);

    public long Duplicated => Math.Max(0, Actual - (Acknowledged + Failed));

    /// <summary>How many of the failed writes evidently landed.</summary>
    public long FailedButApplied => Math.Clamp(Actual - Acknowledged, 0, Failed);
}

/// <summary>The write check of a run: must show nothing lost and nothing duplicated.</summary>
/// <param name="Acknowledged">Writes the store acknowledged.</param>
/// <param name="Failed">Writes that failed or never answered: their outcome is unknown.</param>
/// <param name="FailedButApplied">Of <paramref name="Failed"/>, how many evidently landed anyway.</param>
/// <param name="Lost">Acknowledged writes missing from the carts read back.</param>
/// <param name="Duplicated">Units more than acknowledged and failed writes could have added.</param>
/// <param name="CartsChecked">Carts with a write that were read back.</param>
/// <param name="CartsUnreadable">Carts with a write that could not be read back in time: not checked.</param>
/// <param name="AcknowledgedUnchecked">Acknowledged writes in the unreadable carts.</param>
public sealed record WriteCheck(
    long Acknowledged,
    long Failed,
    long FailedButApplied,
    long Lost,
    long Duplicated,
    int CartsChecked,
    int CartsUnreadable,
    long AcknowledgedUnchecked)
{
    /// <summary>Nothing lost, nothing duplicated, every written cart checked.</summary>
    public bool Passed => Lost == 0 && Duplicated == 0 && CartsUnreadable == 0;

    public static WriteCheck From(IEnumerable<WriteCell> cells, int cartsChecked, int cartsUnreadable, long acknowledgedUnchecked, long failedUnchecked)
    {
        var all = cells.ToList();
        return new WriteCheck(
            all.Sum(c => c.Acknowledged) + acknowledgedUnchecked,
            all.Sum(c => c.Failed) + failedUnchecked,
            all.Sum(c => c.FailedButApplied),
            all.Sum(c => c.Lost),
            all.Sum(c => c.Duplicated),
            cartsChecked,
            cartsUnreadable,
            acknowledgedUnchecked);
    }
}
