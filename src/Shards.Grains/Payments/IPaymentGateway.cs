namespace Shards.Grains.Payments;

/// <summary>What a gateway answered to a charge.</summary>
/// <param name="Reference">The gateway's reference for the charge (also for a decline).</param>
/// <param name="DeclineReason">Why it was declined; null when approved.</param>
public sealed record GatewayCharge(bool Approved, string Reference, string? DeclineReason);

/// <summary>
/// A payment gateway, registered in the silo's services (the default is <c>SimulatedPaymentGateway</c>; register
/// another <see cref="IPaymentGateway"/> to plug in a real one). Both calls carry an idempotency key, the payment ID:
/// a gateway must charge at most once per key and answer a repeat with the first outcome, and a refund gives back
/// whatever was charged under the key (nothing when nothing was).
/// </summary>
public interface IPaymentGateway
{
    /// <summary>Charges <paramref name="amount"/>; a gateway that does not answer before <paramref name="cancellationToken"/> fires timed out.</summary>
    Task<GatewayCharge> ChargeAsync(string idempotencyKey, decimal amount, string paymentToken, CancellationToken cancellationToken);

    /// <summary>Refunds the charge made under <paramref name="idempotencyKey"/>, if any. True when something was refunded now.</summary>
    Task<bool> RefundAsync(string idempotencyKey, CancellationToken cancellationToken);
}
