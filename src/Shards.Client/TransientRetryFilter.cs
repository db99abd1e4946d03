using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Serialization.Invocation;
using Shards.Contracts;
using Shards.Contracts.Common;

namespace Shards.Client;

/// <summary>
/// Makes a silo's death invisible to callers: a call to a Shards grain that fails because the cluster moved under it
/// (silo died or stopping, gateway lost, no answer within the response timeout) is sent again with bounded
/// exponential backoff, under the same request ID, so that a write the first attempt did land is not applied twice.
/// Domain errors (validation, not found, conflict) are returned at once. Storage being unavailable (PostgreSQL down)
/// is retried for the shorter <see cref="ShardsClientOptions.StorageRetryBudget"/>: then the caller gets the clear
/// "could not be stored" error rather than a call that waits as long as the outage.
/// Each attempt of a method that takes a <see cref="CancellationToken"/> waits with the <see cref="GatewayLossSignal"/>'s
/// current token (linked to the caller's own): when a gateway connection drops, the attempt stops waiting and is resent
/// at once instead of after the response timeout. A call the caller itself cancelled is not retried.
/// </summary>
internal sealed partial class TransientRetryFilter(ShardsClientOptions options, GatewayLossSignal gatewayLoss, ILogger<TransientRetryFilter> logger) : IOutgoingGrainCallFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, int> s_tokenArguments = new();

    private static readonly TimeSpan s_firstDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan s_maxDelay = TimeSpan.FromMilliseconds(250);

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (ResendCancellation.IsCancelling && ResendCancellation.IsNotice(context))
        {
            context.Response = Response.Completed; // this filter cancelled the call to resend it: the target need not know
            return;
        }

        if (context.InterfaceMethod?.DeclaringType?.Assembly != typeof(StorageNames).Assembly)
        {
            await context.Invoke();
            return;
        }

        var ownsRequestId = RequestContext.Get(RequestIds.ContextKey) is null;
        if (ownsRequestId)
        {
            RequestContext.Set(RequestIds.ContextKey, Guid.NewGuid());
        }

        // Every copy of the request carries one deadline, chosen now: after it, no grain applies the request, so its
        // request-log entry need not outlive it (docs/exactly-once.md). It covers every attempt this filter makes.
        var ownsDeadline = RequestContext.Get(RequestIds.DeadlineContextKey) is null;
        if (ownsDeadline)
        {
            RequestContext.Set(RequestIds.DeadlineContextKey, DateTimeOffset.UtcNow + options.RequestLifetime);
        }

        try
        {
            var started = DateTime.UtcNow;
            var deadline = started + options.RetryBudget;
            if (RequestIds.CurrentDeadline() is { } requestDeadline && requestDeadline.UtcDateTime < deadline)
            {
                deadline = requestDeadline.UtcDateTime; // a copy sent later would be refused as expired
            }

            var storageDeadline = started + options.StorageRetryBudget;
            var delay = s_firstDelay;
            var tokenArgument = context.InterfaceMethod is { } method ? s_tokenArguments.GetOrAdd(method, TokenArgument) : -1;
            var callerToken = tokenArgument >= 0 ? context.Request.GetCancellationToken() : default;
            var resent = false;
            var attemptLimit = options.ResendAttemptTimeout > TimeSpan.Zero ? options.ResendAttemptTimeout : (TimeSpan?)null;
            for (var attempt = 1; ; attempt++)
            {
                Exception? failure;
                var lossToken = tokenArgument >= 0 && options.ResendOnGatewayLoss ? gatewayLoss.Current : default;

                // After a resend, each attempt also has a time limit: a message a survivor holds in placement right
                // after a death would otherwise wait for its whole time to live.
                using var linked = lossToken.CanBeCanceled && (callerToken.CanBeCanceled || resent)
                    ? CancellationTokenSource.CreateLinkedTokenSource(callerToken, lossToken)
                    : null;
                using var limitTimer = resent && linked is not null && attemptLimit is { } limit
                    ? new Timer(static source => ResendCancellation.Cancel((CancellationTokenSource)source!), linked, limit, Timeout.InfiniteTimeSpan)
                    : null;
                if (resent && attemptLimit is { } current)
                {
                    // The next limit is twice as long (up to the response timeout): an attempt that is merely slow gets through.
                    attemptLimit = current * 2 < options.ResponseTimeout ? current * 2 : options.ResponseTimeout;
                }

                if (lossToken.CanBeCanceled)
                {
                    context.Request.SetArgument(tokenArgument, linked?.Token ?? lossToken);
                }

                try
                {
                    await context.Invoke();
                    failure = context.Response?.Exception;
                }
                catch (Exception ex)
                {
                    failure = ex;
                }

                // Cancelled, but not by the caller: either this filter stopped waiting (a gateway dropped) or the runtime
                // gave up on the message ("Message expired before placement could complete" while a dead silo's directory
                // partition was unreachable). Both are the cluster moving under the call.
                var cancelledByCluster = failure is OperationCanceledException && !callerToken.IsCancellationRequested;
                if (cancelledByCluster && lossToken.IsCancellationRequested && DateTime.UtcNow < deadline)
                {
                    resent = true;
                    if (logger.IsEnabled(LogLevel.Debug))
                    {
                        LogResend(logger, context.InterfaceName, context.MethodName, context.TargetId, attempt);
                    }

                    continue;
                }

                var storageDown = ShardsFailures.Find(failure ?? new InvalidOperationException()) is { Code: ShardsErrorCode.StorageUnavailable };
                if (failure is null || !(cancelledByCluster || ShardsFailures.IsTransient(failure)) || DateTime.UtcNow + delay > (storageDown ? storageDeadline : deadline))
                {
                    if (failure is not null && context.Response?.Exception is null)
                    {
                        ExceptionDispatchInfo.Capture(failure).Throw();
                    }

                    return; // success, a domain error, or out of budget: the proxy surfaces context.Response
                }

                if (logger.IsEnabled(LogLevel.Debug))
                {
                    LogRetry(logger, context.InterfaceName, context.MethodName, context.TargetId, attempt, failure.GetType().Name, delay.TotalMilliseconds);
                }

                await Task.Delay(delay);
                delay = delay * 2 < s_maxDelay ? delay * 2 : s_maxDelay;
            }
        }
        finally
        {
            if (ownsRequestId)
            {
                RequestContext.Remove(RequestIds.ContextKey);
            }

            if (ownsDeadline)
            {
                RequestContext.Remove(RequestIds.DeadlineContextKey);
            }
        }
    }

    /// <summary>The position of the method's <see cref="CancellationToken"/> parameter, or -1 when it has none.</summary>
    private static int TokenArgument(MethodInfo method) =>
        Array.FindIndex(method.GetParameters(), p => p.ParameterType == typeof(CancellationToken));

    [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "Resending {Interface}.{Method} on {GrainId} at once: a gateway connection dropped while attempt {Attempt} was in flight")]
    private static partial void LogResend(ILogger logger, string @interface, string method, GrainId grainId, int attempt);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Retrying {Interface}.{Method} on {GrainId} (attempt {Attempt} failed with {Error}) in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string @interface, string method, GrainId grainId, int attempt, string error, double delayMs);
}
