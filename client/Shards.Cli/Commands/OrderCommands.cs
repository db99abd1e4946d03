using System.CommandLine;
using System.Globalization;
using Shards.Cli.Core;
using Shards.Contracts.Orders;
using Shards.Json;

namespace Shards.Cli.Commands;

/// <summary><c>shards checkout CART --order ID</c> and <c>shards order get ID</c>: the checkout/order service.</summary>
internal static class OrderCommands
{
    /// <summary>The token the simulated gateway approves (any token not starting with tok-decline or tok-timeout).</summary>
    private const string DefaultPaymentToken = "tok-visa";

    public static Command Checkout(GlobalOptions global)
    {
        var cartId = new Argument<string>("cart") { Description = "Cart ID to check out, e.g. cart-00042" };
        var orderId = new Option<string>("--order") { Description = "Order ID: re-running with the same ID answers the same order and never charges twice", Required = true };
        var token = new Option<string>("--payment-token")
        {
            Description = "Card token to pay with; the simulated gateway declines tok-decline* and times out on tok-timeout*",
            DefaultValueFactory = _ => DefaultPaymentToken,
        };
        var command = new Command("checkout", "Check a cart out as an order: lock the cart, reserve stock, pay, publish purchased (the cart empties)")
        {
            cartId, orderId, token,
        };
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            var id = parseResult.GetValue(orderId)!;
            var outcome = await (await context.ConnectAsync(ct)).GetGrain<ICheckoutGrain>(id)
                .CheckoutAsync(parseResult.GetValue(cartId)!, parseResult.GetValue(token)!, ct);
            if (!outcome.Created)
            {
                context.Output.Line($"Order {id} already existed: this is its outcome (nothing was charged or reserved again).");
            }

            PrintOrder(context, outcome.Order);
            return outcome.Order.Status == OrderStatus.Failed ? ExitCodes.OrderFailed : ExitCodes.Ok;
        });
        return command;
    }

    public static Command Order(GlobalOptions global)
    {
        var order = new Command("order", "The checkout/order service: one grain per order, keyed by order ID");
        var orderId = new Argument<string>("order") { Description = "Order ID, e.g. order-00042" };
        var get = new Command("get", "Show an order: status, stage, lines, total and its step history") { orderId };
        global.SetAction(get, async (parseResult, context, ct) =>
        {
            var id = parseResult.GetValue(orderId)!;
            var view = await (await context.ConnectAsync(ct)).GetGrain<ICheckoutGrain>(id).GetAsync(ct)
                ?? throw new CliException($"No order '{id}'.", ExitCodes.NotFound);
            PrintOrder(context, view);
            return ExitCodes.Ok;
        });
        order.Subcommands.Add(get);
        order.Subcommands.Add(ListingCommands.Orders(global));
        return order;
    }

    /// <summary>
    /// The order without its payment token, a secret: <see cref="OrderDocument"/>, the HTTP API's order, with the token's
    /// hint, also in the steps and the failure reason.
    /// </summary>
    private static void PrintOrder(CliContext context, OrderView unredacted)
    {
        var order = OrderDocument.From(unredacted);
        var outcome = order.Status switch
        {
            OrderStatus.Paid when order.PendingDeliveries > 0 => $"Paid (purchased not yet acknowledged by {order.PendingDeliveries} subscriber(s))",
            OrderStatus.Failed => $"Failed: {order.FailureReason}",
            _ => order.Status.ToString(),
        };
        context.Output.Line($"Order {order.OrderId} for cart {order.CartId}: {outcome} (stage {order.Stage})");
        context.Output.Table(
            ["SKU", "QTY", "UNIT", "TOTAL"],
            order.Lines.Select(l => (IReadOnlyList<string>)[l.Sku, Number(l.Quantity), Money(l.UnitPrice), Money(l.LineTotal)]));
        context.Output.Line(PaymentLine(order));
        context.Output.Line("Steps:");
        context.Output.Table(
            ["AT (UTC)", "STEP", "DETAIL"],
            order.Steps.Select(s => (IReadOnlyList<string>)[s.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture), s.Step, s.Detail]));
        context.Output.Document(order);
    }

    /// <summary>
    /// The total and what became of the payment: only a paid order says "paid with"; a failed one says it was not paid,
    /// and a declined one that the card was declined (its failure reason, from the checkout saga, says so).
    /// </summary>
    internal static string PaymentLine(OrderDocument order)
    {
        var total = Money(order.Total);
        var card = order.PaymentTokenHint;
        return order.Status switch
        {
            OrderStatus.Paid => $"Total: {total}, paid with {card}",
            OrderStatus.Failed when order.FailureReason?.StartsWith("the payment was declined", StringComparison.Ordinal) == true =>
                $"Total: {total}, not paid: the payment with {card} was declined",
            OrderStatus.Failed => $"Total: {total}, not paid (payment token {card})",
            _ => $"Total: {total}, to be paid with {card}",
        };
    }

    private static string Money(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
