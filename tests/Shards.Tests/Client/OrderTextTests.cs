using Shards.Cli.Commands;
using Shards.Contracts.Orders;
using Shards.Json;

namespace Shards.Tests.Client;

/// <summary>What <c>shards checkout</c> and <c>shards order get</c> say about an order's payment.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class OrderTextTests
{
    [Fact]
    public void A_declined_order_says_its_payment_was_declined_never_paid_with()
    {
        var line = OrderCommands.PaymentLine(Order(OrderStatus.Failed, "the payment was declined: card declined (token ****ine)"));

        Assert.Equal("Total: 20.00, not paid: the payment with ****ine was declined", line);
        Assert.DoesNotContain("paid with", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(OrderStatus.Paid, null, "Total: 20.00, paid with ****ine")]
    [InlineData(OrderStatus.Failed, "the cart is empty", "Total: 20.00, not paid (payment token ****ine)")]
    [InlineData(OrderStatus.Pending, null, "Total: 20.00, to be paid with ****ine")]
    public void Only_a_paid_order_says_paid_with(OrderStatus status, string? reason, string expected) =>
        Assert.Equal(expected, OrderCommands.PaymentLine(Order(status, reason)));

    private static OrderDocument Order(OrderStatus status, string? failureReason) => new(
        "order-1001", "cart-1001", status, status == OrderStatus.Failed ? CheckoutStage.Failed : CheckoutStage.Paying, [], 20m, "****ine",
        failureReason, 0, [], DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
}
