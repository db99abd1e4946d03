using System.Collections.Concurrent;
using Shards.Grains.Payments;

namespace Shards.Tests.Checkout;

/// <summary>One payment ID in <see cref="ScriptedPaymentGateway"/>'s book.</summary>
internal sealed record ScriptedCharge(decimal Amount, bool Approved, bool Refunded, string Token);

/// <summary>
/// An in-memory gateway whose token says what it does: "decline" in the token declines; "timeout" charges and never
/// answers (the payment grain times out); "norefund" makes every refund of that payment fail for good (the processor
/// refuses it). Like a real gateway it charges at most once per payment ID, and a refund of a payment never charged
/// voids the ID so a later charge is refused.
/// </summary>
internal sealed class ScriptedPaymentGateway : IPaymentGateway
{
    private readonly ConcurrentDictionary<string, ScriptedCharge> _book = new();

    public ScriptedCharge? Find(string paymentId) => _book.TryGetValue(paymentId, out var charge) ? charge : null;

    public async Task<GatewayCharge> ChargeAsync(string idempotencyKey, decimal amount, string paymentToken, CancellationToken cancellationToken)
    {
        var charge = _book.GetOrAdd(idempotencyKey, _ => new ScriptedCharge(amount, !paymentToken.Contains("decline", StringComparison.Ordinal), false, paymentToken));
        if (paymentToken.Contains("timeout", StringComparison.Ordinal))
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        return new GatewayCharge(charge.Approved, $"scripted-{idempotencyKey}", charge.Approved ? null : "card declined");
    }

    public Task<bool> RefundAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        if (Find(idempotencyKey) is { } charged && charged.Token.Contains("norefund", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The processor refuses refunds of payment {idempotencyKey}; refund it by hand.");
        }

        var refundedNow = false;
        _book.AddOrUpdate(
            idempotencyKey,
            _ => new ScriptedCharge(0m, false, true, "voided"),
            (_, charge) =>
            {
                refundedNow = charge.Approved && !charge.Refunded;
                return charge with { Refunded = true };
            });
        return Task.FromResult(refundedNow);
    }
}
