using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Shards.Api.Options;
using Shards.Api.Problems;

namespace Shards.Api.Endpoints;

/// <summary>
/// Gives every API request the request ID and deadline its grain calls carry (<see cref="RequestScope"/>): a new ID
/// and a deadline covering the request's own retries (<see cref="ShardsApiOptions.KeylessDeadline"/>). It checks the
/// client's <c>Idempotency-Key</c> (1-255 printable ASCII characters, e.g. a UUID); on a write, the idempotency
/// record of that key then supplies the ID and deadline instead (<see cref="Idempotency.IdempotentRequests"/>). The ID is echoed
/// in <c>X-Shards-Request-Id</c>.
/// </summary>
internal sealed class RequestIdentity(IOptions<ShardsApiOptions> options, TimeProvider time) : IEndpointFilter
{
    public const string HeaderName = "Idempotency-Key";
    public const string EchoHeaderName = "X-Shards-Request-Id";

    /// <summary>The longest <c>Idempotency-Key</c> accepted.</summary>
    public const int MaxKeyLength = 255;

    private static readonly object s_itemKey = new();

    /// <summary>The request's scope; one with a new ID and a keyless deadline if none was given yet.</summary>
    public static RequestScope Of(HttpContext context, ShardsApiOptions options, TimeProvider time) =>
        context.Items.TryGetValue(s_itemKey, out var value) && value is RequestScope scope
            ? scope
            : Assign(context, new RequestScope(context, Guid.NewGuid(), options.KeylessDeadline(time.GetUtcNow()), idempotencyKey: null));

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (CheckKey(http.Request.Headers[HeaderName]) is { } problem)
        {
            return ValueTask.FromResult<object?>(ApiProblems.Validation(problem));
        }

        var key = http.Request.Headers[HeaderName].ToString();
        Assign(http, new RequestScope(http, Guid.NewGuid(), options.Value.KeylessDeadline(time.GetUtcNow()), key.Length == 0 ? null : key));
        return next(context);
    }

    /// <summary>Null when the header is absent or a valid key; otherwise what is wrong with it.</summary>
    internal static string? CheckKey(Microsoft.Extensions.Primitives.StringValues values)
    {
        if (values.Count == 0 || (values.Count == 1 && values[0] is { Length: <= MaxKeyLength } one && !one.AsSpan().ContainsAnyExceptInRange(' ', '~')))
        {
            return null; // absent, or one valid key: the common case, without building the message
        }

        var rule = $"The {HeaderName} header must be one value of 1-{MaxKeyLength} printable ASCII characters (a UUID is a good choice)";
        if (values.Count > 1)
        {
            return $"{rule}; this request has {values.Count} of them. Send one key per request, and the same key only to retry the same request.";
        }

        var key = values.ToString();
        if (key.Length > MaxKeyLength)
        {
            return $"{rule}; this one has {key.Length} characters.";
        }

        var bad = key.AsSpan().IndexOfAnyExceptInRange(' ', '~');
        return bad >= 0
            ? $"{rule}; this one has a character that is not (U+{(int)key[bad]:X4} at position {bad + 1})."
            : null;
    }

    private static RequestScope Assign(HttpContext context, RequestScope scope)
    {
        context.Items[s_itemKey] = scope;
        return scope;
    }
}

/// <summary>
/// The identity of one API request's grain calls: the request ID and deadline every attempt carries (Orleans request
/// context, <c>RequestIds</c>), the client's <c>Idempotency-Key</c>, and whether a grain answered that the request
/// expired (its deadline passed and it was not applied).
/// </summary>
internal sealed class RequestScope
{
    private readonly HttpContext _http;

    public RequestScope(HttpContext http, Guid requestId, DateTimeOffset deadline, string? idempotencyKey)
    {
        _http = http;
        IdempotencyKey = idempotencyKey;
        Use(requestId, deadline);
    }

    public Guid RequestId { get; private set; }

    public DateTimeOffset Deadline { get; private set; }

    /// <summary>The client's key (valid), or null.</summary>
    public string? IdempotencyKey { get; }

    /// <summary>Set by <see cref="GrainCalls"/> when a grain answered <c>Expired</c> under this scope's request ID.</summary>
    public bool Expired { get; set; }

    /// <summary>Runs the next grain calls under <paramref name="requestId"/> and <paramref name="deadline"/>.</summary>
    public void Use(Guid requestId, DateTimeOffset deadline)
    {
        RequestId = requestId;
        Deadline = deadline;
        Expired = false;
        if (!_http.Response.HasStarted)
        {
            _http.Response.Headers[RequestIdentity.EchoHeaderName] = requestId.ToString();
        }
    }
}
