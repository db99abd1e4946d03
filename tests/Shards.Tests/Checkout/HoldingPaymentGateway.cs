using System.Collections.Concurrent;
using Shards.Grains.Payments;

namespace Shards.Tests.Checkout;

/// <summary>
/// The real simulated gateway, except that for a token starting with <see cref="HoldPrefix"/> the charge is made and
/// its answer is held until the test releases it (ignoring the caller's timeout), so a test can act mid-payment.
/// </summary>
internal sealed class HoldingPaymentGateway(IPaymentGateway inner) : IPaymentGateway
{
    public const string HoldPrefix = "tok-hold";

    private static readonly ConcurrentDictionary<string, TaskCompletionSource> s_entered = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> s_released = new();

    /// <summary>Completes once a held charge of <paramref name="paymentId"/> reached the gateway and was made.</summary>
    public static Task EnteredAsync(string paymentId) => Signal(s_entered, paymentId).Task;

    public static void Release(string paymentId) => Signal(s_released, paymentId).TrySetResult();

    public async Task<GatewayCharge> ChargeAsync(string idempotencyKey, decimal amount, string paymentToken, CancellationToken cancellationToken)
    {
        var charge = await inner.ChargeAsync(idempotencyKey, amount, paymentToken, cancellationToken);
        if (paymentToken.StartsWith(HoldPrefix, StringComparison.Ordinal))
        {
            Signal(s_entered, idempotencyKey).TrySetResult();
            await Signal(s_released, idempotencyKey).Task;
        }

        return charge;
    }

    public Task<bool> RefundAsync(string idempotencyKey, CancellationToken cancellationToken) => inner.RefundAsync(idempotencyKey, cancellationToken);

    private static TaskCompletionSource Signal(ConcurrentDictionary<string, TaskCompletionSource> signals, string key) =>
        signals.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
