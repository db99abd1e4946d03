using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shards.Api.Options;
using Shards.Api.Problems;
using Shards.Contracts.Common;
using Shards.Domain;

namespace Shards.Api.Endpoints;

/// <summary>
/// How an endpoint calls a grain: under the request's ID and deadline (Orleans request context, <see cref="RequestIds"/>),
/// re-sent with bounded backoff while the cluster moves under it (a silo died or is stopping; an attempt got no
/// answer), and with the outcome turned into HTTP: Validation 400, NotFound 404, Conflict 409, Expired 409 (code
/// <c>expired</c>), StorageUnavailable, SiloCutOff and exhausted retries 503 with <c>Retry-After</c>. Every attempt carries the same
/// request ID and deadline, so a write is applied once, and no copy of it after the deadline.
/// </summary>
public sealed class GrainCalls(IOptions<ShardsApiOptions> options, TimeProvider time, ILogger<GrainCalls> logger)
{
    private static readonly TimeSpan s_firstDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan s_maxDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>Runs <paramref name="call"/> and answers with <paramref name="ok"/>'s result, or a problem.</summary>
    public async Task<IResult> RunAsync<T>(HttpContext http, string operation, Func<Task<T>> call, Func<T, IResult> ok)
    {
        var settings = options.Value;
        var scope = RequestIdentity.Of(http, settings, time);
        var watch = Stopwatch.StartNew();
        var delay = s_firstDelay;
        for (var attempt = 1; ; attempt++)
        {
            RequestContext.Set(RequestIds.ContextKey, scope.RequestId);
            RequestContext.Set(RequestIds.DeadlineContextKey, scope.Deadline);
            try
            {
                var value = await call().WaitAsync(settings.AttemptTimeout, http.RequestAborted);
                return ok(value);
            }
            catch (Exception ex) when (ShardsFailures.Find(ex) is { Code: ShardsErrorCode.Expired } expired)
            {
                scope.Expired = true;
                return ApiProblems.Result(
                    StatusCodes.Status409Conflict, "Request expired",
                    $"{operation} was not applied: {expired.Message} No copy of this request will be applied later; send it again " +
                    $"(with a new {RequestIdentity.HeaderName} if it had one) if it is still wanted.",
                    ApiErrorCodes.Expired);
            }
            catch (Exception ex) when (ShardsFailures.Find(ex) is { } shards && !ShardsFailures.IsTransient(shards.Code))
            {
                return FromDomain(shards);
            }
            catch (Exception ex) when (ShardsFailures.IsTransient(ex) && !http.RequestAborted.IsCancellationRequested)
            {
                if (watch.Elapsed + delay > settings.RetryBudget)
                {
                    ApiLog.GaveUp(logger, operation, watch.Elapsed.TotalSeconds, ex.GetType().Name);
                    return ApiProblems.Unavailable(UnavailableDetail(http, operation, ex, settings), settings.RetryAfter);
                }

                if (logger.IsEnabled(LogLevel.Debug))
                {
                    ApiLog.Retrying(logger, operation, attempt, ex.GetType().Name, delay.TotalMilliseconds);
                }

                await Task.Delay(delay, http.RequestAborted);
                delay = delay * 2 < s_maxDelay ? delay * 2 : s_maxDelay;
            }
            finally
            {
                RequestContext.Remove(RequestIds.ContextKey);
                RequestContext.Remove(RequestIds.DeadlineContextKey);
            }
        }
    }

    /// <summary>Checks an ID from the route before any grain is touched; null when it is valid.</summary>
    public static IResult? CheckId(string value, Func<string, string> validate)
    {
        try
        {
            validate(value);
            return null;
        }
        catch (DomainRuleException ex)
        {
            return ApiProblems.Validation(ex.Message);
        }
    }

    /// <summary>
    /// A 503's detail: what could not be done and what the caller may assume, never the failure's own text (a storage
    /// failure names the database's host and port and carries the driver's message: the silo logs it, for operators).
    /// </summary>
    private static string UnavailableDetail(HttpContext http, string operation, Exception failure, ShardsApiOptions settings)
    {
        var why = ShardsFailures.Find(failure)?.Code switch
        {
            ShardsErrorCode.StorageUnavailable => "the store's database did not answer in time (the silo logged the cause)",
            ShardsErrorCode.SiloCutOff => "the silo that served it cannot reach a majority of the cluster (a network partition?) and refuses calls until it can",
            _ => $"the cluster did not answer within {settings.RetryBudget.TotalSeconds:0} s",
        };
        var next = HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)
            ? "Nothing changed; retry later."
            : $"Its outcome is unknown: send it again with the same {RequestIdentity.HeaderName}, which applies it once or answers " +
              "its original outcome (without one, a retry may apply it twice).";
        return $"{operation} could not be completed: {why}. {next}";
    }

    private static IResult FromDomain(ShardsException exception) => exception.Code switch
    {
        ShardsErrorCode.NotFound => ApiProblems.NotFound(exception.Message),
        ShardsErrorCode.Conflict => ApiProblems.Conflict(exception.Message),
        _ => ApiProblems.Validation(exception.Message),
    };
}
