using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Shards.Grains.Payments;

namespace Shards.Grains.Orders;

/// <summary>The checkout and payment services' registrations in a silo: options, the saga's metrics (the payment gateway is registered by the host).</summary>
public static class CheckoutService
{
    public static IServiceCollection AddCheckoutService(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CheckoutOptions>, CheckoutOptionsValidator>());
        services.AddOptions<CheckoutOptions>().BindConfiguration(CheckoutOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PaymentOptions>, PaymentOptionsValidator>());
        services.AddOptions<PaymentOptions>().BindConfiguration(PaymentOptions.Section).ValidateOnStart();
        services.AddMetrics();
        services.TryAddSingleton(sp => new CheckoutMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), sp.GetService<TimeProvider>()));
        return services;
    }
}
