using System.CommandLine;
using System.Globalization;
using Shards.Cli.Core;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Listing;
using Shards.Contracts.Orders;
using Shards.Domain;
using Shards.Json;

namespace Shards.Cli.Commands;

/// <summary>
/// <c>shards product list</c>, <c>shards cart list</c>, <c>shards order list</c>: pages read from the shard databases by
/// the cluster (<see cref="IStoreListingGrain"/>), in key order, without activating a grain. <c>--after</c> is the
/// cursor (the previous page's last key); <c>--all</c> follows the cursors to the end.
/// </summary>
internal static class ListingCommands
{
    public static Command Products(GlobalOptions global) => List<ProductSnapshot, ProductSnapshot>(
        global, "products", "SKU", Identifiers.ValidateSku,
        async (listing, after, limit, ct) => Page(await listing.ProductsAsync(after, limit, ct)),
        shown: p => p,
        ["SKU", "NAME", "PRICE", "STOCK", "RESERVED", "SOLD"],
        p => [p.Sku, p.Name, Money(p.Price), Number(p.Stock), Number(p.Reserved), p.Sold.ToString(CultureInfo.InvariantCulture)]);

    public static Command Carts(GlobalOptions global) => List<CartView, CartView>(
        global, "carts", "cart ID", Identifiers.ValidateCartId,
        async (listing, after, limit, ct) => Page(await listing.CartsAsync(after, limit, ct)),
        shown: c => c,
        ["CART", "LINES", "UNITS", "TOTAL", "LOCKED BY"],
        c => [c.CartId, Number(c.Lines.Count), Number(c.Lines.Sum(l => l.Quantity)), Money(c.Total), c.CheckoutOrderId ?? "-"]);

    public static Command Orders(GlobalOptions global) => List<OrderView, OrderDocument>(
        global, "orders", "order ID", Identifiers.ValidateOrderId,
        async (listing, after, limit, ct) => Page(await listing.OrdersAsync(after, limit, ct)),
        shown: OrderDocument.From,
        ["ORDER", "CART", "STATUS", "STAGE", "TOTAL", "CREATED (UTC)"],
        o => [o.OrderId, o.CartId, ShardsJson.Name(o.Status), ShardsJson.Name(o.Stage), Money(o.Total), o.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)]);

    private static Command List<T, TShown>(
        GlobalOptions global,
        string what,
        string keyName,
        Func<string?, string> validateKey,
        Func<IStoreListingGrain, string?, int, CancellationToken, Task<(IReadOnlyList<T> Items, string? Next)>> page,
        Func<T, TShown> shown,
        IReadOnlyList<string> headers,
        Func<TShown, IReadOnlyList<string>> row)
    {
        var after = new Option<string?>("--after") { Description = $"Start after this {keyName} (the previous page's next)", HelpName = keyName.Replace(' ', '-') }
            .Checked(key => validateKey(key));
        var limit = new Option<int>("--limit", "-n")
        {
            Description = $"Items per page, 1-{ListingLimits.MaxLimit}",
            DefaultValueFactory = _ => ListingLimits.DefaultLimit,
        }.Checked(n => CliValidation.InRange(n, 1, ListingLimits.MaxLimit, "--limit"));
        var all = new Option<bool>("--all") { Description = "Every page to the end (ignores --limit for the total)" };
        var command = new Command("list", $"List {what} in {keyName} order, a page at a time, from the shard databases (no grain is activated)")
        {
            after, limit, all,
        };
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            var listing = (await context.ConnectAsync(ct)).GetGrain<IStoreListingGrain>(ListingLimits.GrainKey);
            var cursor = parseResult.GetValue(after);
            var items = new List<TShown>();
            string? next;
            do
            {
                var current = await page(listing, cursor, parseResult.GetValue(limit), ct);
                items.AddRange(current.Items.Select(shown));
                next = current.Next;
                cursor = next;
            }
            while (parseResult.GetValue(all) && next is not null);

            if (items.Count == 0)
            {
                context.Output.Line(next is null ? $"No {what}{(parseResult.GetValue(after) is { } from ? $" after {from}" : "")}." : $"No {what} on this page.");
            }
            else
            {
                context.Output.Table(headers, items.Select(row));
            }

            if (next is not null)
            {
                context.Output.Line($"More: shards {CommandPath(command)} --after {next}");
            }

            context.Output.Document(new { items, next });
            return ExitCodes.Ok;
        });
        return command;
    }

    private static (IReadOnlyList<ProductSnapshot>, string?) Page(ProductPage page) => (page.Items, page.Next);

    private static (IReadOnlyList<CartView>, string?) Page(CartPage page) => (page.Items, page.Next);

    private static (IReadOnlyList<OrderView>, string?) Page(OrderPage page) => (page.Items, page.Next);

    private static string CommandPath(Command command) => $"{command.Parents.OfType<Command>().FirstOrDefault()?.Name} {command.Name}";

    private static string Money(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
