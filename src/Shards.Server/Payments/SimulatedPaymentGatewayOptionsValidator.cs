using Microsoft.Extensions.Options;

namespace Shards.Server.Payments;

/// <summary>Checks <c>Shards:Payments:Simulated</c>.</summary>
public sealed class SimulatedPaymentGatewayOptionsValidator : IValidateOptions<SimulatedPaymentGatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, SimulatedPaymentGatewayOptions options) =>
        options.MaxApprovedAmount >= 0 && options.ResponseDelay >= TimeSpan.Zero
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Shards:Payments:Simulated:MaxApprovedAmount and ResponseDelay cannot be negative");
}
