using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shards.Api.Endpoints;
using Shards.Api.Options;
using Shards.Api.Problems;
using Shards.Api.Security;

namespace Shards.Api.Idempotency;

/// <summary>
/// <c>Idempotency-Key</c> on a write (POST, PUT, PATCH, DELETE), as the best public APIs have it: the key is bound to
/// the API key (each API key has its own keys), the method, the route and the body's SHA-256 by a record in the main
/// database (<see cref="IdempotencyStore"/>), created on first use with the request ID and deadline every grain call
/// of the request carries. Then:
/// <list type="bullet">
/// <item>the key with another method, route or body: 422 saying which differs; nothing runs;</item>
/// <item>the same request, answered: the stored status, content type, <c>Location</c> and body, with
/// <c>Idempotent-Replayed: true</c>; nothing runs;</item>
/// <item>the same request, not answered yet (still running, or its last try ended in a 5xx): the grain call runs
/// again under the record's request ID and deadline, so the grain applies it once and answers its outcome;</item>
/// <item>a grain answering Expired (the deadline passed, the request was never applied and never will be): the record
/// gets a new request ID and deadline (compare-and-set) and runs; beyond the grains' request log retention the
/// outcome cannot be told: 409 <c>outcomeUnknown</c>, stored.</item>
/// </list>
/// A final answer (2xx, 4xx) is stored; a 5xx is not, so the client's retry runs again. A 2xx is stored behind the
/// reply: the request waits for two commits (its record's creation, the grain's write), not three. PostgreSQL not answering
/// before anything ran: 503 with <c>Retry-After</c>.
/// </summary>
internal sealed class IdempotentRequests(
    IdempotencyStore store, IOptions<ShardsApiOptions> options, TimeProvider time, ILogger<IdempotentRequests> logger) : IEndpointFilter
{
    private const int MaxRearms = 3;
    private static readonly byte[] s_emptyBodySha256 = SHA256.HashData([]);

    // Answers of applied requests whose commit is still running (StoreAnswerBehindReply), by key.
    private readonly ConcurrentDictionary<IdempotencyKeyRef, Task> _answersBeingStored = new();

    /// <summary>The methods that change something: only these use records.</summary>
    public static bool IsWrite(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var settings = options.Value;
        var scope = RequestIdentity.Of(http, settings, time);
        if (!IsWrite(http.Request.Method) || scope.IdempotencyKey is not { } idempotencyKey)
        {
            return await next(context);
        }

        var key = new IdempotencyKeyRef(ApiKeyTickets.PrincipalOf(http.User) ?? "anonymous", idempotencyKey);
        var request = http.Request;
        var fingerprint = new RequestFingerprint(
            request.Method.ToUpperInvariant(), request.Path.Value + request.QueryString.Value, RequestBodyFingerprint.Of(http) ?? s_emptyBodySha256);
        if (_answersBeingStored.TryGetValue(key, out var storing))
        {
            await storing; // a retry of a request this silo just answered: replayed once its answer is stored
        }

        IdempotencyRecord record;
        bool created;
        try
        {
            var now = time.GetUtcNow();
            (record, created) = await store.BeginAsync(
                key, fingerprint, Guid.NewGuid(), now + settings.Idempotency.RequestLifetime, now + settings.Idempotency.Retention, http.RequestAborted);
            if (!created && Mismatch(record.Fingerprint, fingerprint) is { } mismatch)
            {
                return mismatch;
            }

            if (record.Response is { } answered)
            {
                scope.Use(record.RequestId, record.Deadline);
                return answered with { Replayed = true };
            }
        }
        catch (IdempotencyStoreUnavailableException ex)
        {
            return Unavailable(fingerprint, ex);
        }

        return await RunAsync(context, next, scope, key, record, created);
    }

    /// <summary>Runs the endpoint under the record's request ID and deadline until it has an answer to give.</summary>
    private async Task<object?> RunAsync(
        EndpointFilterInvocationContext context, EndpointFilterDelegate next, RequestScope scope, IdempotencyKeyRef key, IdempotencyRecord record,
        bool ownRecord)
    {
        var http = context.HttpContext;
        var settings = options.Value.Idempotency;
        for (var rearms = 0; ; rearms++)
        {
            scope.Use(record.RequestId, record.Deadline);
            var result = await next(context);
            if (scope.Expired)
            {
                var expiredFor = time.GetUtcNow() - record.Deadline;
                if (expiredFor > settings.RequestLogRetention)
                {
                    return await CompleteAsync(http, scope, key, record, ownRecord, OutcomeUnknown(record, expiredFor));
                }

                if (rearms >= MaxRearms)
                {
                    return result; // expired again at once (clocks far apart?): answered, not stored
                }

                try
                {
                    var fresh = Guid.NewGuid();
                    var deadline = time.GetUtcNow() + settings.RequestLifetime;
                    if (await store.RearmAsync(key, record.RequestId, fresh, deadline, http.RequestAborted))
                    {
                        ApiLog.IdempotencyRearmed(logger, key.Key, record.RequestId, fresh);
                        record = record with { RequestId = fresh, Deadline = deadline };
                        ownRecord = true;
                        continue;
                    }

                    // Another request re-armed it (or answered it) first: follow the record.
                    var current = await store.LoadAsync(key, http.RequestAborted);
                    if (current?.Response is { } answered)
                    {
                        scope.Use(current.RequestId, current.Deadline);
                        return answered with { Replayed = true };
                    }

                    record = current ?? record;
                    ownRecord = false;
                    continue;
                }
                catch (IdempotencyStoreUnavailableException ex)
                {
                    return Unavailable(record.Fingerprint, ex);
                }
            }

            return await CompleteAsync(http, scope, key, record, ownRecord, result);
        }
    }

    /// <summary>
    /// Stores a final answer and returns what to answer. The request that created the record (or re-armed it) answers
    /// a 2xx at once and stores it behind the reply (<see cref="StoreAnswerBehindReply"/>). Any other answer is stored
    /// first, and a copy of a request that finds another copy's answer stored first answers that one, replayed.
    /// </summary>
    private async Task<object?> CompleteAsync(
        HttpContext http, RequestScope scope, IdempotencyKeyRef key, IdempotencyRecord record, bool ownRecord, object? result)
    {
        var response = await StoredResponse.CaptureAsync(http, result as IResult ?? Results.Json(result));
        if (!response.IsFinal)
        {
            return response; // outcome unknown: not stored; the retry runs the call again under the same request ID
        }

        if (ownRecord && response.Status < StatusCodes.Status300MultipleChoices)
        {
            StoreAnswerBehindReply(key, record.RequestId, response);
            return response;
        }

        try
        {
            if (await store.CompleteAsync(key, record.RequestId, response, http.RequestAborted))
            {
                return response;
            }

            if (await store.LoadAsync(key, http.RequestAborted) is { Response: { } stored } current)
            {
                scope.Use(current.RequestId, current.Deadline);
                return stored with { Replayed = true };
            }
        }
        catch (IdempotencyStoreUnavailableException ex)
        {
            // The call ran: its answer is true, so give it. The record stays unanswered: a retry runs the call again
            // under the same request ID, and the grain answers the outcome it already had.
            ApiLog.IdempotencyAnswerNotStored(logger, key.Key, response.Status, ex.Message);
        }

        return response;
    }

    /// <summary>
    /// Stores an applied request's answer without making the reply wait for its commit. Until it is stored, a retry
    /// finds the record unanswered and runs the grain call again under the same request ID: the grain's request log
    /// answers the outcome it already had and applies nothing, exactly as after a silo that died between the grain's
    /// answer and the record's. A retry reaching this silo first waits for the store (<see cref="InvokeAsync"/>), so
    /// it is replayed as before. A store that fails is logged, as when it is awaited.
    /// </summary>
    private void StoreAnswerBehindReply(IdempotencyKeyRef key, Guid requestId, StoredResponse response)
    {
        var stored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _answersBeingStored[key] = stored.Task;
        _ = StoreAnswerAsync();

        async Task StoreAnswerAsync()
        {
            try
            {
                await store.CompleteAsync(key, requestId, response, CancellationToken.None);
            }
            catch (Exception ex)
            {
                ApiLog.IdempotencyAnswerNotStored(logger, key.Key, response.Status, ex.Message);
            }
            finally
            {
                _answersBeingStored.TryRemove(new KeyValuePair<IdempotencyKeyRef, Task>(key, stored.Task));
                stored.SetResult();
            }
        }
    }

    private static IResult? Mismatch(RequestFingerprint first, RequestFingerprint now)
    {
        string? what = null;
        if (first.Method != now.Method || first.Route != now.Route)
        {
            what = $"It was first used for {first.Method} {first.Route}; this request is {now.Method} {now.Route}.";
        }
        else if (!first.BodySha256.AsSpan().SequenceEqual(now.BodySha256))
        {
            what = $"It was first used for {first.Method} {first.Route} with another body (SHA-256 {Short(first.BodySha256)}…; this body's is " +
                $"{Short(now.BodySha256)}…); a retry must send the same body, byte for byte.";
        }

        return what is null
            ? null
            : ApiProblems.Result(
                StatusCodes.Status422UnprocessableEntity, "Idempotency-Key reused",
                $"This {RequestIdentity.HeaderName} belongs to another request. {what} Nothing was done. Send a new request with a new {RequestIdentity.HeaderName}.",
                ApiErrorCodes.IdempotencyKeyMismatch);
    }

    private IResult OutcomeUnknown(IdempotencyRecord record, TimeSpan expiredFor) => ApiProblems.Result(
        StatusCodes.Status409Conflict, "Outcome unknown",
        $"The first {record.Fingerprint.Method} {record.Fingerprint.Route} with this {RequestIdentity.HeaderName} (request {record.RequestId}) was never " +
        $"answered, and its deadline passed {expiredFor.TotalHours:0.#} h ago, longer than the cluster remembers whether a request was applied " +
        $"({options.Value.Idempotency.RequestLogRetention.TotalHours:0.#} h): whether it was applied is not known. Check the resource " +
        $"(GET it) and, if the change is still wanted, send it with a new {RequestIdentity.HeaderName}.",
        ApiErrorCodes.OutcomeUnknown);

    private IResult Unavailable(RequestFingerprint request, IdempotencyStoreUnavailableException exception)
    {
        ApiLog.IdempotencyStoreUnavailable(logger, request.Method, request.Route, exception.Message);
        return ApiProblems.Unavailable(
            $"{request.Method} {request.Route} was not run: the record of its {RequestIdentity.HeaderName} could not be read or written in " +
            $"PostgreSQL ({exception.Message}). Retry later with the same {RequestIdentity.HeaderName}.",
            options.Value.RetryAfter);
    }

    private static string Short(byte[] sha256) => Convert.ToHexStringLower(sha256, 0, 4);
}
