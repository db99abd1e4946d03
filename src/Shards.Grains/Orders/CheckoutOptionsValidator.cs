using Microsoft.Extensions.Options;
using Shards.Grains.Payments;

namespace Shards.Grains.Orders;

/// <summary>Checks the checkout saga's settings (section <c>Shards:Checkout</c>) at start.</summary>
public sealed class CheckoutOptionsValidator : IValidateOptions<CheckoutOptions>
{
    public ValidateOptionsResult Validate(string? name, CheckoutOptions options) =>
        options.RetryDelay > TimeSpan.Zero && options.ReminderPeriod > TimeSpan.Zero && options.SagaDeadline > TimeSpan.Zero
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Shards:Checkout:RetryDelay, ReminderPeriod and SagaDeadline must be positive");
}

/// <summary>Checks the payment service's settings (section <c>Shards:Payments</c>) at start.</summary>
public sealed class PaymentOptionsValidator : IValidateOptions<PaymentOptions>
{
    public ValidateOptionsResult Validate(string? name, PaymentOptions options) =>
        options.GatewayTimeout > TimeSpan.Zero ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail("Shards:Payments:GatewayTimeout must be positive");
}
