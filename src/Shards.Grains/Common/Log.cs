using Microsoft.Extensions.Logging;

namespace Shards.Grains.Common;

/// <summary>Every log message the grains write, with stable event IDs (1000-1099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning,
        Message = "Storage write for {GrainId} failed and its outcome is unknown; the activation serves the last acknowledged state and reloads it before the next change")]
    public static partial void WriteFailed(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information,
        Message = "Storage write for {GrainId} met a concurrent writer (version conflict); reloading state and request log")]
    public static partial void WriteConflict(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning,
        Message = "State of {GrainId} could not be reloaded after a write whose outcome is unknown; the next call tries again")]
    public static partial void ReloadFailed(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning,
        Message = "purchased for order {OrderId} reached product {Sku}, which holds no reservation for it and has not settled it; nothing was sold")]
    public static partial void PurchaseWithoutReservation(ILogger logger, string orderId, string sku);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning,
        Message = "purchased for order {OrderId} reached cart {CartId}, which is locked by {LockedBy} instead; the cart was not emptied")]
    public static partial void PurchaseWithoutLock(ILogger logger, string orderId, string cartId, string? lockedBy);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Order {OrderId}: {Step} ({Detail})")]
    public static partial void OrderStep(ILogger logger, string orderId, string step, string detail);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning,
        Message = "Order {OrderId}: the saga stopped at {Stage} on a transient failure and resumes in {DelaySeconds} s")]
    public static partial void SagaInterrupted(ILogger logger, string orderId, string stage, double delaySeconds, Exception exception);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Warning,
        Message = "Order {OrderId}: purchased not yet acknowledged by {Subscription}/{Key}; retrying later")]
    public static partial void DeliveryFailed(ILogger logger, string orderId, string subscription, string key, Exception exception);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Error,
        Message = "Order {OrderId}: the saga failed unexpectedly at {Stage}; it resumes from there")]
    public static partial void SagaFailedUnexpectedly(ILogger logger, string orderId, string stage, Exception exception);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Error,
        Message = "Order {OrderId}: {What} could not be undone (refused for good); compensation goes on without it and the order records it")]
    public static partial void UndoFailed(ILogger logger, string orderId, string what, Exception exception);

    [LoggerMessage(EventId = 1015, Level = LogLevel.Warning,
        Message = "Order {OrderId}: still at {Stage} {DeadlineSeconds} s after it was accepted (the saga deadline); compensating")]
    public static partial void SagaDeadlinePassed(ILogger logger, string orderId, string stage, double deadlineSeconds);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Warning,
        Message = "Payment {PaymentId}: the gateway gave no answer within {TimeoutSeconds} s")]
    public static partial void GatewayTimedOut(ILogger logger, string paymentId, double timeoutSeconds);

    [LoggerMessage(EventId = 1030, Level = LogLevel.Information,
        Message = "Product {Sku}: silo {Holder} did not confirm it dropped its leased copy ({Failure}); the change went ahead after {WaitedMs} ms, when {Because}")]
    public static partial void LeaseRevokeUnconfirmed(ILogger logger, string sku, SiloAddress holder, string failure, double waitedMs, string because);
}
