using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Shards.Contracts;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Contracts.Events;
using Shards.Contracts.Orders;
using Shards.Contracts.Payments;
using Shards.Domain;
using Shards.Grains.Common;
using Shards.Grains.Events;

namespace Shards.Grains.Orders;

/// <summary>
/// One order, keyed by order ID: checkout as a saga. Stages, each persisted before the next begins:
/// Accepted (reminder registered) → Reserving (cart locked, its lines copied; one reservation per line, each
/// persisted) → Paying → Publishing (paid; the outbox event written in the same write) → Completed once every
/// subscriber acknowledged <c>purchased</c>. A step refused for a business reason (empty cart, not enough stock,
/// payment declined or timed out), or an order not yet past Paying when <see cref="CheckoutOptions.SagaDeadline"/>
/// passes, moves to Compensating: refund (money first), release every reservation, unlock the cart → Failed. An undo
/// step refused for good is recorded ("could not be undone") and compensation goes on, so it always ends.
/// A transient failure (a silo died, storage down) leaves the stage as it is: a timer (while active) or the reminder
/// (after a crash) drives the saga on, and every step is idempotent by order ID, so resuming never repeats an effect.
/// Reads (<see cref="GetAsync"/>, which interleaves with a running step) see only what storage acknowledged.
/// </summary>
[GrainType("checkout")]
[HashBasedPlacement]
public sealed class CheckoutGrain(
    [PersistentState(StateNames.Order, StorageNames.Orders)] IPersistentState<OrderState> state,
    IEnumerable<PurchasedSubscription> subscriptions,
    IOptions<CheckoutOptions> options,
    CheckoutMetrics metrics,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<CheckoutGrain> logger) : Grain, ICheckoutGrain, IRemindable
{
    private const string ReminderName = "checkout-saga";

    private readonly StateCommands<OrderState> _commands = new(state, StateNames.Order, StorageNames.Orders);

    private DateTimeOffset _activatedAt;
    private IGrainTimer? _resume;

    private string OrderId => this.GetPrimaryKeyString();

    private OrderState Order => state.State;

    /// <summary>What reads show: the state as storage acknowledged it, never one whose write is still pending.</summary>
    private OrderState Acknowledged => _commands.Acknowledged;

    private bool IsUnfinished => Order.Stage is not (0 or CheckoutStage.Completed or CheckoutStage.Failed);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = time.GetUtcNow();
        if (IsUnfinished)
        {
            ScheduleResume(TimeSpan.Zero); // reactivated mid-saga (after a crash, or by any call): carry on at once
        }

        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.Forget(OrderId);
        return Task.CompletedTask;
    }

    public async Task<CheckoutOutcome> CheckoutAsync(string cartId, string paymentToken, CancellationToken cancellationToken)
    {
        var orderId = ValidOrderId();
        DomainRules.Check(() =>
        {
            Identifiers.ValidateCartId(cartId);
            Identifiers.ValidatePaymentToken(paymentToken);
        });
        var requestId = RequestIds.CurrentId();
        RequestContext.Remove(RequestIds.ContextKey); // the saga's own calls are idempotent by order ID, not by the caller's request
        RequestContext.Remove(RequestIds.DeadlineContextKey);
        await _commands.CurrentAsync(this);
        if (Order.Stage != 0)
        {
            if (Order.CartId != cartId)
            {
                throw new ShardsException(
                    ShardsErrorCode.Conflict,
                    $"Order {orderId} already exists for cart {Order.CartId}; use a new order ID to check out cart {cartId}.");
            }

            await DriveAsync(); // a repeat: the same outcome, after finishing whatever was left
            return new CheckoutOutcome(View(Order), requestId is { } repeat && Order.StartedBy == repeat);
        }

        // Refused without creating the order: nothing to check out, or the cart is another order's. The caller's token
        // only lets the caller stop waiting (see ICheckoutGrain): the saga's own steps never stop half-way because of it.
        var cart = await GrainFactory.GetGrain<ICartGrain>(cartId).GetAsync(CancellationToken.None);
        if (cart.Lines.Count == 0)
        {
            throw new ShardsException(ShardsErrorCode.Conflict, $"Cart {cartId} is empty: there is nothing to check out. No order was created.");
        }

        if (cart.CheckoutOrderId is { } other && other != orderId)
        {
            throw new ShardsException(
                ShardsErrorCode.Conflict,
                $"Cart {cartId} is already being checked out by order {other}. No order was created; retry once that order is paid or has failed.");
        }

        // The reminder first: from the first persisted step on, a crash cannot strand the saga.
        try
        {
            await this.RegisterOrUpdateReminder(ReminderName, options.Value.ReminderPeriod, options.Value.ReminderPeriod, CancellationToken.None);
        }
        catch (Exception exception) when (exception is not ShardsException)
        {
            // The reminder table's driver errors are not serialisable: the caller gets Shards' transient error instead.
            Log.SagaInterrupted(logger, orderId, "reminder registration", 0, exception);
            throw new ShardsException(
                ShardsErrorCode.StorageUnavailable,
                $"Order {orderId} could not be started: its reminder could not be stored ({exception.GetType().Name}). No order was created; retry.");
        }

        var now = time.GetUtcNow();
        await AdvanceAsync(
            _ => new OrderState { Stage = CheckoutStage.Accepted, CartId = cartId, PaymentToken = paymentToken, StartedBy = requestId, CreatedAt = now },
            "accepted", $"checkout of cart {cartId}, paying with {paymentToken}");
        metrics.RecordStarted();
        await DriveAsync();
        return new CheckoutOutcome(View(Order), Created: true);
    }

    /// <summary>Interleaves with a running saga: shows only what storage acknowledged, never a step whose write is in flight.</summary>
    public Task<OrderView?> GetAsync(CancellationToken cancellationToken)
    {
        ValidOrderId();
        var acknowledged = Acknowledged;
        return Task.FromResult(acknowledged.Stage == 0 ? null : View(acknowledged));
    }

    public Task<GrainLocation> WhereAsync(CancellationToken cancellationToken)
    {
        ValidOrderId();
        return Task.FromResult(GrainLocations.Of(this, silo, _activatedAt));
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName)
        {
            return;
        }

        try
        {
            await RunSagaAsync();
        }
        catch (Exception exception)
        {
            Log.SagaInterrupted(logger, OrderId, Order.Stage.ToString(), options.Value.ReminderPeriod.TotalSeconds, exception);
        }
    }

    /// <summary>Runs the saga as far as it goes now; on a transient failure, schedules a retry and tells the caller.</summary>
    private async Task DriveAsync()
    {
        try
        {
            await RunSagaAsync();
        }
        catch (Exception exception)
        {
            ScheduleResume(options.Value.RetryDelay);
            if (ShardsFailures.IsTransient(exception))
            {
                Log.SagaInterrupted(logger, OrderId, Order.Stage.ToString(), options.Value.RetryDelay.TotalSeconds, exception);
            }
            else
            {
                Log.SagaFailedUnexpectedly(logger, OrderId, Order.Stage.ToString(), exception);
            }

            throw;
        }
    }

    private async Task RunSagaAsync()
    {
        await _commands.CurrentAsync(this); // reloaded first if a step's write had an unknown outcome
        while (true)
        {
            switch (Order.Stage)
            {
                case CheckoutStage.Accepted or CheckoutStage.Reserving or CheckoutStage.Paying when DeadlinePassed() is { } late:
                    Log.SagaDeadlinePassed(logger, OrderId, Order.Stage.ToString(), options.Value.SagaDeadline.TotalSeconds);
                    await StartCompensationAsync(late);
                    break;
                case CheckoutStage.Accepted:
                    await LockCartAsync();
                    break;
                case CheckoutStage.Reserving:
                    await ReserveNextLineAsync();
                    break;
                case CheckoutStage.Paying:
                    await PayAsync();
                    break;
                case CheckoutStage.Publishing:
                    if (!await RelayAsync())
                    {
                        ScheduleResume(options.Value.RetryDelay);
                        return;
                    }

                    break;
                case CheckoutStage.Compensating:
                    await CompensateAsync();
                    break;
                case CheckoutStage.Completed or CheckoutStage.Failed:
                    await StopReminderAsync();
                    return;
                default:
                    // No order in memory. The first write may have been stored with its answer lost: only once the
                    // database says there is no order is the reminder given up.
                    await _commands.ReloadAsync(this);
                    if (Order.Stage != 0)
                    {
                        break;
                    }

                    await StopReminderAsync(); // a reminder of an order whose first write never landed
                    return;
            }
        }
    }

    private async Task LockCartAsync()
    {
        CartView cart;
        try
        {
            cart = await GrainFactory.GetGrain<ICartGrain>(Order.CartId).BeginCheckoutAsync(OrderId);
        }
        catch (Exception exception) when (Refusal(exception) is { } refused)
        {
            await StartCompensationAsync($"cart {Order.CartId} could not be checked out: {refused.Message}");
            return;
        }

        var lines = cart.Lines.Select(l => new OrderLineState { Sku = l.Sku, Quantity = l.Quantity, UnitPrice = l.UnitPrice }).ToArray();
        await AdvanceAsync(
            o => o with { Stage = CheckoutStage.Reserving, Lines = lines, Total = cart.Total },
            "cart-locked", $"cart {Order.CartId} locked: {lines.Length} line(s), total {Money(cart.Total)}");
    }

    private async Task ReserveNextLineAsync()
    {
        var index = Order.LinesReserved;
        if (index >= Order.Lines.Length)
        {
            await AdvanceAsync(o => o with { Stage = CheckoutStage.Paying }, "reserved", $"all {Order.Lines.Length} line(s) reserved");
            return;
        }

        var line = Order.Lines[index];
        try
        {
            await GrainFactory.GetGrain<IProductGrain>(line.Sku).ReserveForOrderAsync(OrderId, line.Quantity);
        }
        catch (Exception exception) when (Refusal(exception) is { } refused)
        {
            await StartCompensationAsync($"stock could not be reserved: {refused.Message}");
            return;
        }

        var reserved = index + 1;
        await AdvanceAsync(
            o => o with { LinesReserved = reserved, Stage = reserved == o.Lines.Length ? CheckoutStage.Paying : CheckoutStage.Reserving },
            "reserved", $"{line.Quantity} x {line.Sku}");
    }

    private async Task PayAsync()
    {
        if (!Order.PaymentRequested)
        {
            await AdvanceAsync(o => o with { PaymentRequested = true }, "payment-requested", $"{Money(Order.Total)} with {Order.PaymentToken}");
        }

        PaymentView payment;
        try
        {
            payment = await GrainFactory.GetGrain<IPaymentGrain>(OrderId).ChargeAsync(Order.Total, Order.PaymentToken);
        }
        catch (Exception exception) when (Refusal(exception) is { } refused)
        {
            await StartCompensationAsync($"the payment was refused: {refused.Message}");
            return;
        }

        switch (payment.Status)
        {
            case PaymentStatus.Approved:
                var purchased = new PurchasedEvent(
                    PurchasedEvent.IdFor(OrderId),
                    OrderId,
                    Order.CartId,
                    Order.Lines.Select(l => new PurchasedLine(l.Sku, l.Quantity, l.UnitPrice)).ToArray(),
                    time.GetUtcNow());
                var deliveries = subscriptions
                    .SelectMany(s => s.Keys(purchased).Distinct(StringComparer.Ordinal).Select(key =>
                        new DeliveryState { Subscription = s.Name, GrainType = s.GrainType.ToString(), Key = key }))
                    .ToArray();
                await AdvanceAsync(
                    o => o with { Stage = CheckoutStage.Publishing, Purchased = purchased, Deliveries = deliveries },
                    "paid", $"payment {payment.Reference} approved; purchased queued for {deliveries.Length} subscriber grain(s)");
                metrics.RecordPaid(Order.CreatedAt);
                break;
            case PaymentStatus.Declined:
                await StartCompensationAsync($"the payment was declined: {payment.Reason}");
                break;
            case PaymentStatus.TimedOut:
                await StartCompensationAsync($"the payment timed out: {payment.Reason}");
                break;
            default:
                await StartCompensationAsync($"the payment is {payment.Status}");
                break;
        }
    }

    /// <summary>
    /// Delivers the outbox event to every subscriber grain that has not acknowledged it, all at once, and stores the
    /// acknowledgements. True when every subscriber has acknowledged it.
    /// </summary>
    private async Task<bool> RelayAsync()
    {
        var purchased = Order.Purchased!;
        var deliveries = Order.Deliveries;
        var attempts = deliveries
            .Select(async d =>
            {
                if (d.Acknowledged)
                {
                    return d;
                }

                var tried = d with { Attempts = d.Attempts + 1, LastAttemptAt = time.GetUtcNow() };
                try
                {
                    await GrainFactory.GetGrain<IPurchasedSubscriber>(GrainId.Create(d.GrainType, d.Key)).OnPurchasedAsync(purchased);
                    return tried with { Acknowledged = true, AcknowledgedAt = time.GetUtcNow(), LastError = null };
                }
                catch (Exception exception)
                {
                    Log.DeliveryFailed(logger, OrderId, d.Subscription, d.Key, exception);
                    metrics.RecordRetry(d.Subscription);
                    return tried with { LastError = DeliveryError(exception) };
                }
            })
            .ToArray();
        var delivered = await Task.WhenAll(attempts);
        var newly = delivered.Where((d, i) => d.Acknowledged && !deliveries[i].Acknowledged).ToArray();
        var done = delivered.All(d => d.Acknowledged);
        if (newly.Length > 0 || done)
        {
            await AdvanceAsync(
                o => o with { Deliveries = delivered, Stage = done ? CheckoutStage.Completed : CheckoutStage.Publishing },
                done ? "delivered" : "partly-delivered",
                $"purchased acknowledged by {string.Join(", ", newly.Select(d => $"{d.Subscription}:{d.Key}"))}");
            foreach (var d in newly)
            {
                metrics.RecordDelivered(d.Subscription);
            }
        }
        else
        {
            // Only failed attempts: store their count and error (what `shards events` shows), without a step per retry.
            await StoreAsync(o => o with { Deliveries = delivered });
        }

        metrics.SetPending(OrderId, purchased.PaidAt, delivered.Count(d => !d.Acknowledged));
        return done;
    }

    /// <summary>What a failed delivery's subscriber answered, short enough to keep with the order.</summary>
    private static string DeliveryError(Exception exception)
    {
        var text = ShardsFailures.Find(exception) is { } known ? known.Message : $"{exception.GetType().Name}: {exception.Message}";
        return text.Length <= MaxDeliveryError ? text : text[..MaxDeliveryError] + "...";
    }

    private const int MaxDeliveryError = 300;

    private async Task StartCompensationAsync(string reason)
    {
        await AdvanceAsync(o => o with { Stage = CheckoutStage.Compensating, FailureReason = reason }, "compensating", reason);
        metrics.RecordCompensating();
    }

    /// <summary>
    /// Undoes every step that may have taken effect, money first: refund the payment (whatever the gateway took, an
    /// outcome never stored included), release every reservation, unlock the cart; then Failed. Each undo is idempotent,
    /// so a resumed compensation is safe; one refused for good is recorded and skipped (<see cref="UndoAsync"/>).
    /// </summary>
    private async Task CompensateAsync()
    {
        var undone = new List<string>();
        var notUndone = 0;
        if (Order.PaymentRequested)
        {
            var refund = PaymentStatus.None;
            if (await UndoAsync("refund", $"the payment of {Money(Order.Total)}", async () => refund = (await GrainFactory.GetGrain<IPaymentGrain>(OrderId).RefundAsync()).Status))
            {
                if (refund == PaymentStatus.Refunded)
                {
                    undone.Add("payment refunded");
                }
            }
            else
            {
                notUndone++;
            }
        }

        // The line being reserved when the saga stopped may have been reserved too (its answer lost): release it as well.
        var touched = Order.Lines.Take(Math.Min(Order.LinesReserved + 1, Order.Lines.Length)).ToArray();
        var released = 0;
        foreach (var line in touched)
        {
            var product = GrainFactory.GetGrain<IProductGrain>(line.Sku);
            var done = await UndoAsync($"release:{line.Sku}", $"the reservation of {line.Quantity} x {line.Sku}", async () =>
            {
                try
                {
                    await product.ReleaseOrderAsync(OrderId);
                }
                catch (Exception exception) when (ShardsFailures.Find(exception) is { Code: ShardsErrorCode.NotFound })
                {
                    // no such product: nothing was reserved
                }
            });
            if (done)
            {
                released++;
            }
            else
            {
                notUndone++;
            }
        }

        undone.Add($"released {released} line(s)");
        if (await UndoAsync("unlock", $"the lock on cart {Order.CartId}", () => GrainFactory.GetGrain<ICartGrain>(Order.CartId).CancelCheckoutAsync(OrderId)))
        {
            undone.Add($"cart {Order.CartId} unlocked");
        }
        else
        {
            notUndone++;
        }

        var detail = string.Join(", ", undone) + (notUndone > 0 ? $"; {notUndone} step(s) could not be undone (see undo-failed)" : string.Empty);
        await AdvanceAsync(o => o with { Stage = CheckoutStage.Failed }, "compensated", detail);
        metrics.RecordFailed(Order.CreatedAt);
    }

    /// <summary>
    /// Runs one undo step of compensation; true when it is done. A step refused for good (anything but a transient
    /// failure: a business refusal, a gateway refusing the refund, a bug) is recorded once as "undo-failed" with the
    /// reason, never tried again, and false is answered, so compensation always ends. A transient failure is thrown:
    /// the saga retries it later (timer or reminder).
    /// </summary>
    private async Task<bool> UndoAsync(string key, string what, Func<Task> undo)
    {
        if (Order.UndoFailed.Contains(key, StringComparer.Ordinal))
        {
            return false;
        }

        try
        {
            await undo();
            return true;
        }
        catch (Exception exception) when (!ShardsFailures.IsTransient(exception))
        {
            Log.UndoFailed(logger, OrderId, what, exception);
            var reason = ShardsFailures.Find(exception)?.Message ?? exception.Message;
            await AdvanceAsync(o => o with { UndoFailed = [.. o.UndoFailed, key] }, "undo-failed", $"{what} could not be undone: {reason}");
            return false;
        }
    }

    /// <summary>
    /// The reason to give up an order still on its way to being paid once <see cref="CheckoutOptions.SagaDeadline"/>
    /// has passed since it was accepted; null before. A payment already asked for may have been charged (its outcome
    /// unknown): compensation refunds it whatever it was.
    /// </summary>
    private string? DeadlinePassed()
    {
        var deadline = options.Value.SagaDeadline;
        if (time.GetUtcNow() - Order.CreatedAt < deadline)
        {
            return null;
        }

        var payment = Order.PaymentRequested ? "; the payment, whatever its outcome, is refunded" : string.Empty;
        return $"the order was still at {Order.Stage} when the saga deadline ({deadline.TotalSeconds:0.#} s after it was accepted) passed{payment}";
    }

    /// <summary>Stores the next state with its step in the history, then logs the step.</summary>
    private async Task AdvanceAsync(Func<OrderState, OrderState> change, string step, string detail)
    {
        var now = time.GetUtcNow();
        await StoreAsync(
            o =>
            {
                var next = change(o);
                return next with { Steps = [.. next.Steps, new OrderStepState { Step = step, Detail = detail, At = now }] };
            },
            now);
        Log.OrderStep(logger, OrderId, step, detail);
    }

    /// <summary>Stores the next state, updated at <paramref name="now"/> (default: now), with no step in the history.</summary>
    private async Task StoreAsync(Func<OrderState, OrderState> change, DateTimeOffset? now = null)
    {
        var next = change(Order) with { UpdatedAt = now ?? time.GetUtcNow() };
        // A version conflict (another activation of this order wrote first, a brief duplicate while the cluster changed)
        // reloads the order and is transient for the caller, never a refusal: a retry resumes from what was stored.
        await _commands.CommitAsync(this, next, $"order {OrderId}");
    }

    private void ScheduleResume(TimeSpan delay)
    {
        _resume?.Dispose();
        _resume = this.RegisterGrainTimer(ResumeAsync, new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan));
    }

    private async Task ResumeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunSagaAsync();
        }
        catch (Exception exception)
        {
            Log.SagaInterrupted(logger, OrderId, Order.Stage.ToString(), options.Value.RetryDelay.TotalSeconds, exception);
            ScheduleResume(options.Value.RetryDelay);
        }
    }

    private async Task StopReminderAsync()
    {
        try
        {
            if (await this.GetReminder(ReminderName) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
        }
        catch (Exception exception)
        {
            // The order is finished either way (a driver error included); the reminder's next tick tries again.
            Log.SagaInterrupted(logger, OrderId, Order.Stage.ToString(), options.Value.ReminderPeriod.TotalSeconds, exception);
        }
    }

    /// <summary>
    /// A step refused for a business reason (validation, not found, conflict): the saga compensates. Null for anything
    /// transient (storage unavailable, a silo cut off from the cluster's majority).
    /// </summary>
    private static ShardsException? Refusal(Exception exception) =>
        ShardsFailures.Find(exception) is { } refused && !ShardsFailures.IsTransient(refused.Code) ? refused : null;

    private string ValidOrderId() => DomainRules.Check(() => Identifiers.ValidateOrderId(OrderId));

    private static string Money(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    private OrderView View(OrderState order) => StoredView(OrderId, order);

    /// <summary>What <see cref="GetAsync"/> answers for a stored state of order <paramref name="orderId"/>, read without activating it.</summary>
    internal static OrderView StoredView(string orderId, OrderState order)
    {
        var status = order.Stage switch
        {
            CheckoutStage.Publishing or CheckoutStage.Completed => OrderStatus.Paid,
            CheckoutStage.Failed => OrderStatus.Failed,
            _ => OrderStatus.Pending,
        };
        return new OrderView(
            orderId,
            order.CartId,
            status,
            order.Stage,
            order.Lines.Select(l => new OrderLineView(l.Sku, l.Quantity, l.UnitPrice, l.Quantity * l.UnitPrice)).ToArray(),
            order.Total,
            order.PaymentToken,
            order.FailureReason,
            order.Deliveries.Count(d => !d.Acknowledged),
            order.Steps.Select(s => new OrderStepView(s.Step, s.Detail, s.At)).ToArray(),
            order.CreatedAt,
            order.UpdatedAt);
    }
}
