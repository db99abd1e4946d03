using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shards.Contracts;
using Shards.Contracts.Common;
using Shards.Contracts.Payments;
using Shards.Domain;
using Shards.Grains.Common;

namespace Shards.Grains.Payments;

/// <summary>
/// One payment, keyed by the order ID it pays for. The outcome is stored once known, and the gateway is called with
/// the payment ID as idempotency key: a charge repeated after a crash (outcome not stored yet) is answered by the
/// gateway with its first outcome, so a payment is never charged twice.
/// </summary>
[GrainType("payment")]
public sealed class PaymentGrain(
    [PersistentState(StateNames.Payment, StorageNames.Payments)] IPersistentState<PaymentState> state,
    IPaymentGateway gateway,
    IOptions<PaymentOptions> options,
    TimeProvider time,
    ILogger<PaymentGrain> logger) : Grain, IPaymentGrain
{
    private readonly StateCommands<PaymentState> _commands = new(state, StateNames.Payment, StorageNames.Payments);

    public async Task<PaymentView> ChargeAsync(decimal amount, string paymentToken)
    {
        var paymentId = ValidPaymentId();
        DomainRules.Check(() => Identifiers.ValidatePaymentToken(paymentToken));
        if (amount < 0m || decimal.Round(amount, 2) != amount)
        {
            throw new ShardsException(ShardsErrorCode.Validation, $"Invalid amount {amount}: a payment is 0 or more, with at most 2 decimal places.");
        }

        if ((await _commands.CurrentAsync(this)).Status != PaymentStatus.None)
        {
            return View(); // one charge per payment: a repeat answers the first outcome
        }

        PaymentState outcome;
        using (var timeout = new CancellationTokenSource(options.Value.GatewayTimeout, time))
        {
            try
            {
                var charge = await gateway.ChargeAsync(paymentId, amount, paymentToken, timeout.Token);
                outcome = new PaymentState
                {
                    Status = charge.Approved ? PaymentStatus.Approved : PaymentStatus.Declined,
                    Amount = amount,
                    Reference = charge.Reference,
                    Reason = charge.DeclineReason,
                    UpdatedAt = time.GetUtcNow(),
                };
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                Log.GatewayTimedOut(logger, paymentId, options.Value.GatewayTimeout.TotalSeconds);
                outcome = new PaymentState
                {
                    Status = PaymentStatus.TimedOut,
                    Amount = amount,
                    Reason = $"the payment gateway did not answer within {options.Value.GatewayTimeout.TotalSeconds:0.#} s",
                    UpdatedAt = time.GetUtcNow(),
                };
            }
        }

        await _commands.CommitAsync(this, outcome, $"payment {paymentId}");
        return View();
    }

    public async Task<PaymentView> RefundAsync()
    {
        var paymentId = ValidPaymentId();
        var current = await _commands.CurrentAsync(this);
        if (current.Status is PaymentStatus.Refunded or PaymentStatus.Declined)
        {
            return View(); // nothing (more) to give back
        }

        // Also when no outcome is stored (None): a charge may have landed at the gateway before a crash.
        using (var timeout = new CancellationTokenSource(options.Value.GatewayTimeout, time))
        {
            try
            {
                await gateway.RefundAsync(paymentId, timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                Log.GatewayTimedOut(logger, paymentId, options.Value.GatewayTimeout.TotalSeconds);
                throw new TimeoutException($"Refunding payment {paymentId}: the payment gateway did not answer in time; retry.");
            }
        }

        await _commands.CommitAsync(
            this,
            new PaymentState { Status = PaymentStatus.Refunded, Amount = current.Amount, Reference = current.Reference, Reason = current.Reason, UpdatedAt = time.GetUtcNow() },
            $"payment {paymentId}");
        return View();
    }

    public Task<PaymentView> GetAsync()
    {
        ValidPaymentId();
        return Task.FromResult(View());
    }

    private string ValidPaymentId() => DomainRules.Check(() => Identifiers.ValidateOrderId(this.GetPrimaryKeyString()));

    private PaymentView View()
    {
        var stored = _commands.Acknowledged;
        return new PaymentView(this.GetPrimaryKeyString(), stored.Status, stored.Amount, stored.Reference, stored.Reason);
    }
}
