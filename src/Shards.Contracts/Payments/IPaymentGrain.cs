namespace Shards.Contracts.Payments;

/// <summary>Where a payment stands.</summary>
[GenerateSerializer, Alias("shards.PaymentStatus")]
public enum PaymentStatus
{
    /// <summary>No charge was attempted.</summary>
    None = 0,

    /// <summary>The gateway took the money.</summary>
    Approved = 1,

    /// <summary>The gateway refused the charge: nothing was taken.</summary>
    Declined = 2,

    /// <summary>The gateway did not answer in time: the charge may or may not have landed (a refund settles it).</summary>
    TimedOut = 3,

    /// <summary>Whatever the gateway took for this payment was given back.</summary>
    Refunded = 4,
}

/// <summary>A payment as the payment service shows it.</summary>
/// <param name="Reference">The gateway's reference for the charge, when it gave one.</param>
/// <param name="Reason">Why it was declined or timed out.</param>
[GenerateSerializer, Immutable, Alias("shards.PaymentView")]
public sealed record PaymentView(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] PaymentStatus Status,
    [property: Id(2)] decimal Amount,
    [property: Id(3)] string? Reference,
    [property: Id(4)] string? Reason);

/// <summary>
/// The payment service: one grain per payment, keyed by the order ID it pays for, so a retried charge (same order)
/// never charges twice. It talks to the payment gateway registered in the silo (a simulated one by default).
/// </summary>
[Alias("shards.IPaymentGrain")]
public interface IPaymentGrain : IGrainWithStringKey
{
    /// <summary>Charges <paramref name="amount"/> to the card behind <paramref name="paymentToken"/>, once: a repeat answers the first outcome.</summary>
    Task<PaymentView> ChargeAsync(decimal amount, string paymentToken);

    /// <summary>Gives back whatever was charged for this payment (nothing when nothing was); safe to repeat.</summary>
    Task<PaymentView> RefundAsync();

    /// <summary>The payment (status None when never charged).</summary>
    Task<PaymentView> GetAsync();
}
