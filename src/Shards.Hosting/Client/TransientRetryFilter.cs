using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Shards.Contracts;
using Shards.Contracts.Common;
using Shards.Hosting.Options;

namespace Shards.Hosting.Client;

/// <summary>
/// Makes a silo's death invisible to callers: a call to a Shards grain that fails because the cluster moved under it
/// (silo died or stopping, gateway lost, no answer within the response timeout) is sent again with bounded
/// exponential backoff, under the same request ID, so that a write the first attempt did land is not applied twice.
/// Domain errors (validation, not found, conflict) are returned at once. Storage being unavailable (PostgreSQL down)
/// is retried for the shorter <see cref="ShardsClientOptions.StorageRetryBudget"/>: then the caller gets the clear
/// "could not be stored" error rather than a call that waits as long as the outage.
/// </summary>
internal sealed partial class TransientRetryFilter(ShardsClientOptions options, ILogger<TransientRetryFilter> logger) : IOutgoingGrainCallFilter
{
    private static readonly TimeSpan s_firstDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan s_maxDelay = TimeSpan.FromSeconds(1);

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
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

        try
        {
            var started = DateTime.UtcNow;
            var deadline = started + options.RetryBudget;
            var storageDeadline = started + options.StorageRetryBudget;
            var delay = s_firstDelay;
            for (var attempt = 1; ; attempt++)
            {
                Exception? failure;
                try
                {
                    await context.Invoke();
                    failure = context.Response?.Exception;
                }
                catch (Exception ex)
                {
                    failure = ex;
                }

                var storageDown = ShardsFailures.Find(failure ?? new InvalidOperationException()) is { Code: ShardsErrorCode.StorageUnavailable };
                if (failure is null || !ShardsFailures.IsTransient(failure) || DateTime.UtcNow + delay > (storageDown ? storageDeadline : deadline))
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
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Retrying {Interface}.{Method} on {GrainId} (attempt {Attempt} failed with {Error}) in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string @interface, string method, GrainId grainId, int attempt, string error, double delayMs);
}
