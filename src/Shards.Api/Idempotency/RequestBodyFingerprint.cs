using System.Buffers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Shards.Api.Endpoints;
using Shards.Api.Options;
using Shards.Api.Problems;

namespace Shards.Api.Idempotency;

/// <summary>
/// The SHA-256 of a keyed write's body, byte for byte, for <see cref="IdempotentRequests"/>: the body is read once
/// into memory (it is small: <see cref="ShardsApiOptions.MaxRequestBodyBytes"/>), hashed, and handed on to the
/// endpoint's JSON binder from that buffer.
/// </summary>
internal static class RequestBodyFingerprint
{
    private static readonly object s_itemKey = new();

    /// <summary>The body's SHA-256, when the middleware read it (a write under /api with an <c>Idempotency-Key</c>).</summary>
    public static byte[]? Of(HttpContext context) => context.Items.TryGetValue(s_itemKey, out var value) ? value as byte[] : null;

    /// <summary>Placed after authentication and the content-type check, before the endpoint binds the body.</summary>
    public static IApplicationBuilder UseRequestBodyFingerprint(this IApplicationBuilder app)
    {
        var max = app.ApplicationServices.GetRequiredService<IOptions<ShardsApiOptions>>().Value.MaxRequestBodyBytes;
        return app.Use((context, next) =>
        {
            var request = context.Request;
            return !IdempotentRequests.IsWrite(request.Method)
                || !request.Path.StartsWithSegments("/api", StringComparison.Ordinal)
                || request.Headers[RequestIdentity.HeaderName].ToString().Length == 0
                ? next(context) // reads and keyless writes: no state machine of this middleware in their path
                : FingerprintAsync(context, next, max);
        });
    }

    private static async Task FingerprintAsync(HttpContext context, RequestDelegate next, long max)
    {
        var request = context.Request;
        var body = await ReadAsync(request.Body, max, context.RequestAborted);
        if (body is null)
        {
            await ApiProblems.WriteAsync(
                context, StatusCodes.Status413PayloadTooLarge, "Payload too large",
                $"The request body has more than {max:N0} bytes; this API accepts at most {max:N0} bytes. Nothing was changed.",
                ApiErrorCodes.PayloadTooLarge);
            return;
        }

        context.Items[s_itemKey] = SHA256.HashData(body);
        request.Body = new MemoryStream(body, writable: false);
        await next(context);
    }

    /// <summary>The whole body, or null when it is longer than <paramref name="max"/> bytes.</summary>
    private static async Task<byte[]?> ReadAsync(Stream body, long max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > max)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }
}
