using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Shards.Api.Idempotency;

/// <summary>
/// An answer as an <c>Idempotency-Key</c> record keeps it: status, content type, <c>Location</c> and body. As an
/// endpoint result it writes exactly that; a replay adds <c>Idempotent-Replayed: true</c>.
/// </summary>
internal sealed record StoredResponse(int Status, string? ContentType, string? Location, byte[] Body, bool Replayed = false) : IResult
{
    public const string ReplayedHeaderName = "Idempotent-Replayed";

    /// <summary>Final answers are kept and replayed (2xx, 4xx); a 5xx says nothing about the outcome, so the retry runs again.</summary>
    public bool IsFinal => Status < 500;

    /// <summary>
    /// Runs <paramref name="result"/> into memory instead of the response, and returns what it wrote. Nothing reaches
    /// the client: the caller decides what to answer.
    /// </summary>
    public static async Task<StoredResponse> CaptureAsync(HttpContext context, IResult result)
    {
        var original = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        using var buffer = new MemoryStream();
        var capture = new StreamResponseBodyFeature(buffer, original);
        context.Features.Set<IHttpResponseBodyFeature>(capture);
        try
        {
            await result.ExecuteAsync(context);
            await capture.CompleteAsync();
        }
        finally
        {
            context.Features.Set(original);
        }

        var response = context.Response;
        var location = response.Headers.Location.ToString();
        return new StoredResponse(response.StatusCode, response.ContentType, location.Length == 0 ? null : location, buffer.ToArray());
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = Status;
        response.ContentType = ContentType;
        if (Location is not null)
        {
            response.Headers.Location = Location;
        }

        if (Replayed)
        {
            response.Headers[ReplayedHeaderName] = "true";
        }

        response.ContentLength = Body.Length;
        await response.Body.WriteAsync(Body, httpContext.RequestAborted);
    }
}
