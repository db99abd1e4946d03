using Microsoft.Extensions.DependencyInjection;
using Shards.Grains.Payments;

namespace Shards.Grains.Orders;

/// <summary>The checkout and payment services' registrations in a silo (the payment gateway is registered by the host).</summary>
public static class CheckoutService
{
    public static IServiceCollection AddCheckoutService(this IServiceCollection services)
    {
        services.AddOptions<CheckoutOptions>().BindConfiguration(CheckoutOptions.Section)
            .Validate(
                o => o.RetryDelay > TimeSpan.Zero && o.ReminderPeriod > TimeSpan.Zero && o.SagaDeadline > TimeSpan.Zero,
                "Shards:Checkout:RetryDelay, ReminderPeriod and SagaDeadline must be positive")
            .ValidateOnStart();
        services.AddOptions<PaymentOptions>().BindConfiguration(PaymentOptions.Section)
            .Validate(o => o.GatewayTimeout > TimeSpan.Zero, "Shards:Payments:GatewayTimeout must be positive")
            .ValidateOnStart();
        return services;
    }
}
