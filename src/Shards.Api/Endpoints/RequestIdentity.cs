using Microsoft.AspNetCore.Http;
using Shards.Api.Problems;

namespace Shards.Api.Endpoints;

/// <summary>
/// Gives every API request the request ID its grain calls carry: the client's <c>Idempotency-Key</c> header (a GUID)
/// when present, so that a client (or nginx) re-sending a request with the same key has it applied once; a new ID
/// otherwise. The ID is echoed in <c>X-Shards-Request-Id</c>.
/// </summary>
internal sealed class RequestIdentity : IEndpointFilter
{
    public const string HeaderName = "Idempotency-Key";
    public const string EchoHeaderName = "X-Shards-Request-Id";
    private static readonly object s_itemKey = new();

    public static Guid Of(HttpContext context) =>
        context.Items.TryGetValue(s_itemKey, out var value) && value is Guid id ? id : Assign(context, Guid.NewGuid());

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers[HeaderName].ToString();
        if (header.Length == 0)
        {
            Assign(http, Guid.NewGuid());
        }
        else if (Guid.TryParse(header, out var id) && id != Guid.Empty)
        {
            Assign(http, id);
        }
        else
        {
            return ValueTask.FromResult<object?>(ApiProblems.Validation(
                $"The {HeaderName} header must be a GUID (e.g. {Guid.NewGuid()}); send the same value again only to retry the same request."));
        }

        return next(context);
    }

    private static Guid Assign(HttpContext context, Guid id)
    {
        context.Items[s_itemKey] = id;
        context.Response.Headers[EchoHeaderName] = id.ToString();
        return id;
    }
}
