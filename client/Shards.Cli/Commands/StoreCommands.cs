using System.CommandLine;
using Shards.Cli.Core;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Domain;
using Shards.Domain.Catalog;
using Shards.Hashing;
using Shards.Postgres;

namespace Shards.Cli.Commands;

/// <summary><c>shards product ...</c>, <c>shards cart ...</c>, <c>shards where KEY</c>, <c>shards seed</c>.</summary>
internal static class StoreCommands
{
    public static Command Product(GlobalOptions global)
    {
        var product = new Command("product", "The catalog service: one grain per product, keyed by SKU");
        var sku = new Argument<string>("sku") { Description = "Product SKU, e.g. sku-00042" }.Checked(id => Identifiers.ValidateSku(id));

        var name = new Option<string>("--name") { Description = "Product name (1-200 characters)", Required = true }
            .Checked(value => Domain.Catalog.Product.Create("sku-check", value, 0m, 0));
        var price = new Option<decimal>("--price") { Description = "Unit price, >= 0, at most 2 decimals", Required = true }
            .Checked(value => Prices.Validate(value));
        var stock = new Option<int>("--stock") { Description = "Units available, >= 0 (reserved and sold units are kept)", Required = true }
            .Checked(value => Domain.Catalog.Product.Create("sku-check", "check", 0m, value));
        var upsert = new Command("upsert", "Create a product or replace its name, price and stock") { sku, name, price, stock };
        global.SetAction(upsert, async (parseResult, context, ct) =>
        {
            var grain = (await context.ConnectAsync(ct)).GetGrain<IProductGrain>(parseResult.GetValue(sku)!);
            var snapshot = await grain.UpsertAsync(new ProductDefinition(parseResult.GetValue(name)!, parseResult.GetValue(price), parseResult.GetValue(stock)), ct);
            PrintProduct(context, snapshot);
            return ExitCodes.Ok;
        });

        var get = new Command("get", "Show a product") { sku };
        global.SetAction(get, async (parseResult, context, ct) =>
        {
            var id = parseResult.GetValue(sku)!;
            var snapshot = await (await context.ConnectAsync(ct)).GetGrain<IProductGrain>(id).GetAsync(ct)
                ?? throw new CliException($"No product '{id}'.", ExitCodes.NotFound);
            PrintProduct(context, snapshot);
            return ExitCodes.Ok;
        });

        var quantity = new Argument<int>("quantity") { Description = "Number of units (> 0)" }.Checked(CliValidation.PositiveQuantity);
        var reserve = new Command("reserve", "Take units out of stock, outside any order (they count as reserved until released)") { sku, quantity };
        global.SetAction(reserve, async (parseResult, context, ct) =>
        {
            var grain = (await context.ConnectAsync(ct)).GetGrain<IProductGrain>(parseResult.GetValue(sku)!);
            PrintProduct(context, await grain.ReserveAsync(parseResult.GetValue(quantity), ct));
            return ExitCodes.Ok;
        });
        var release = new Command("release", "Put back units taken by reserve (at most the units reserved outside orders)") { sku, quantity };
        global.SetAction(release, async (parseResult, context, ct) =>
        {
            var grain = (await context.ConnectAsync(ct)).GetGrain<IProductGrain>(parseResult.GetValue(sku)!);
            PrintProduct(context, await grain.ReleaseAsync(parseResult.GetValue(quantity), ct));
            return ExitCodes.Ok;
        });

        product.Subcommands.Add(upsert);
        product.Subcommands.Add(get);
        product.Subcommands.Add(reserve);
        product.Subcommands.Add(release);
        product.Subcommands.Add(ListingCommands.Products(global));
        return product;
    }

    public static Command Cart(GlobalOptions global)
    {
        var cart = new Command("cart", "The cart service: one grain per cart, keyed by cart ID");
        var cartId = new Argument<string>("cart") { Description = "Cart ID, e.g. cart-00042" }.Checked(id => Identifiers.ValidateCartId(id));
        var sku = new Argument<string>("sku") { Description = "Product SKU" }.Checked(id => Identifiers.ValidateSku(id));
        var quantity = new Argument<int>("quantity") { Description = "Number of units", DefaultValueFactory = _ => 1 }
            .Checked(value => Domain.Carts.Cart.ValidateLineQuantity(value));
        var setQuantity = new Argument<int>("quantity") { Description = "New quantity (0 removes the line)" }
            .Checked(value => Domain.Carts.Cart.ValidateQuantityToSet(value));

        Command Make(string name, string description, Func<ICartGrain, ParseResult, Task<CartView>> call, params Argument[] arguments)
        {
            var command = new Command(name, description);
            command.Arguments.Add(cartId);
            foreach (var argument in arguments)
            {
                command.Arguments.Add(argument);
            }

            global.SetAction(command, async (parseResult, context, ct) =>
            {
                var grain = (await context.ConnectAsync(ct)).GetGrain<ICartGrain>(parseResult.GetValue(cartId)!);
                PrintCart(context, await call(grain, parseResult));
                return ExitCodes.Ok;
            });
            return command;
        }

        cart.Subcommands.Add(Make("add", "Add units of a product", (g, p) => g.AddAsync(p.GetValue(sku)!, p.GetValue(quantity)), sku, quantity));
        cart.Subcommands.Add(Make("set", "Set a line's quantity (0 removes it)", (g, p) => g.SetQuantityAsync(p.GetValue(sku)!, p.GetValue(setQuantity)), sku, setQuantity));
        cart.Subcommands.Add(Make("remove", "Remove a line", (g, p) => g.RemoveAsync(p.GetValue(sku)!), sku));
        cart.Subcommands.Add(Make("get", "Show a cart with line totals", (g, _) => g.GetAsync()));
        cart.Subcommands.Add(Make("clear", "Empty a cart", (g, _) => g.ClearAsync()));
        cart.Subcommands.Add(ListingCommands.Carts(global));
        return cart;
    }

    public static Command Where(GlobalOptions global)
    {
        var key = new Argument<string>("key") { Description = "product/SKU or cart/ID" };
        var command = new Command("where", "Show which silo hosts a key, since when, and which shard database holds its state") { key };
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            var entity = ParseKey(parseResult.GetValue(key)!);
            var location = await entity.Grain(await context.ConnectAsync(ct)).WhereAsync(ct);
            context.Output.Line($"{entity} lives on {location.SiloName} ({location.Silo}), activated {location.ActivatedAt:yyyy-MM-dd HH:mm:ss.fff} UTC");

            // Products and carts are placed by consistent hashing over the active silos' endpoints: the same ring here.
            var connectionString = await context.ResolveConnectionStringAsync(startPrivateServer: false, ct);
            var active = (await new MembershipTableReader(context.DataSources.For(connectionString)).ReadAsync(context.Cluster.ClusterId, ct))
                .Where(m => m.Status == SiloStatusCode.Active).Select(m => m.Endpoint).Distinct().ToList();
            var home = active.Count == 0 ? null : new HomeSiloRing(active).HomeOf(location.GrainId);
            if (home is not null)
            {
                var there = location.Silo.StartsWith($"S{home}:", StringComparison.Ordinal);
                context.Output.Line($"its home silo (consistent hash over {active.Count} active silos) is {home}{(there ? "" : ": not there yet (the rebalancer moves it when idle)")}");
            }

            // The silos route by the stored shard map; routing the grain id with it here gives the same shard.
            var map = await ShardMaps.ReadMapAsync(context, connectionString, context.Cluster.ServiceId, ct);
            var shard = map?.Document.CreateRouter().ShardFor(location.GrainId);
            var storage = shard is null ? null : new { shard, database = map!.Document.Find(shard)!.Target, mapVersion = map.Version };
            if (storage is not null)
            {
                var movingTo = map!.Document.CreateTargetRouter()?.ShardFor(location.GrainId) is { } target && target != shard ? target : null;
                context.Output.Line(movingTo is null
                    ? $"its state is in shard {storage.shard} ({storage.database}), shard map version {storage.mapVersion}"
                    : $"its state is in shard {storage.shard} ({storage.database}) until the resharding in progress moves it to {movingTo}, shard map version {storage.mapVersion}");
            }

            context.Output.Document(new { key = entity.ToString(), location, home, storage });
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Seed(GlobalOptions global)
    {
        var products = CountOption("--products", "Number of products sku-00001.. to create", 1000);
        var carts = CountOption("--carts", "Number of carts cart-00001.. to fill with 1-3 lines", 1000);
        var command = new Command("seed", "Create deterministic products and carts (the demo's data set)") { products, carts };
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            var seeder = new StoreSeeder(await context.ConnectAsync(ct), parseResult.GetValue(products), parseResult.GetValue(carts));
            var started = DateTime.UtcNow;
            var productProgress = new Progress("products", parseResult.GetValue(products));
            await seeder.SeedProductsAsync(productProgress.Advance, ct);
            productProgress.Finish();
            var cartProgress = new Progress("carts", parseResult.GetValue(carts));
            await seeder.SeedCartsAsync(cartProgress.Advance, ct);
            cartProgress.Finish();
            var seconds = (DateTime.UtcNow - started).TotalSeconds;
            context.Output.Line($"Seeded {parseResult.GetValue(products)} products and {parseResult.GetValue(carts)} carts in {seconds:0.0} s.");
            context.Output.Document(new { products = parseResult.GetValue(products), carts = parseResult.GetValue(carts), seconds });
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static Option<int> CountOption(string name, string description, int defaultValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<int>();
            if (value is < 0 or > 1_000_000)
            {
                result.AddError($"{name} must be between 0 and 1000000.");
            }
        });
        return option;
    }

    internal static EntityKey ParseKey(string text)
    {
        try
        {
            return EntityKey.Parse(text);
        }
        catch (FormatException ex)
        {
            throw new CliException(ex.Message);
        }
    }

    private static void PrintProduct(CliContext context, ProductSnapshot product)
    {
        context.Output.Line($"{product.Sku}: {product.Name}, price {product.Price:0.00}, stock {product.Stock}, reserved {product.Reserved} ({product.ReservedOutsideOrders} outside orders), sold {product.Sold} (version {product.Version})");
        context.Output.Document(product);
    }

    private static void PrintCart(CliContext context, CartView cart)
    {
        foreach (var line in CartText(cart))
        {
            context.Output.Line(line);
        }

        context.Output.Document(cart);
    }

    /// <summary>
    /// The text view of a cart: its lines and total (or that it is empty), the lock of a checkout in progress, and the
    /// orders whose purchase emptied it.
    /// </summary>
    internal static IEnumerable<string> CartText(CartView cart)
    {
        if (cart.Lines.Count == 0)
        {
            yield return $"Cart {cart.CartId} is empty (version {cart.Version}).";
        }
        else
        {
            yield return $"Cart {cart.CartId} (version {cart.Version}):";
            foreach (var line in CliOutput.TableLines(
                ["SKU", "QTY", "UNIT", "TOTAL"],
                cart.Lines.Select(l => (IReadOnlyList<string>)[l.Sku, l.Quantity.ToString(), l.UnitPrice.ToString("0.00"), l.LineTotal.ToString("0.00")])))
            {
                yield return line;
            }

            yield return $"Total: {cart.Total:0.00}";
        }

        if (cart.CheckoutOrderId is { } orderId)
        {
            yield return $"Locked by order {orderId}, a checkout in progress: the cart refuses changes until that order is paid or fails " +
                $"(see 'shards order get {orderId}').";
        }

        if (cart.PurchasedOrders is { Count: > 0 } purchased)
        {
            // The cart remembers its last 64; the text shows the latest few (the JSON document has them all).
            const int Shown = 5;
            var latest = string.Join(", ", purchased.TakeLast(Shown));
            yield return purchased.Count == 1
                ? $"Emptied by the purchase of order {latest}."
                : $"Emptied by the purchases of orders {latest} (latest last{(purchased.Count > Shown ? $"; {purchased.Count - Shown} earlier" : string.Empty)}).";
        }
    }
}
