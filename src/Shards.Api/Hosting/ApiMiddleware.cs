using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Shards.Api.Options;
using Shards.Api.Problems;

namespace Shards.Api.Hosting;

/// <summary>Small middleware of the API pipeline.</summary>
internal static class ApiMiddleware
{
    public const string SiloHeaderName = "X-Shards-Silo";

    /// <summary>Every response names the silo that served it, so load balancing is visible to the caller.</summary>
    public static IApplicationBuilder UseSiloHeader(this IApplicationBuilder app)
    {
        var silo = app.ApplicationServices.GetRequiredService<ILocalSiloDetails>();
        Func<object, Task> setHeader = state =>
        {
            ((HttpContext)state).Response.Headers[SiloHeaderName] = silo.Name;
            return Task.CompletedTask;
        };
        return app.Use((context, next) =>
        {
            context.Response.OnStarting(setHeader, context); // one callback for every request, not a closure each
            return next(context);
        });
    }

    /// <summary>
    /// Refuses a body larger than <see cref="ShardsApiOptions.MaxRequestBodyBytes"/> with 413 before reading it
    /// (by its Content-Length); a chunked body is cut off by the server at the same size.
    /// </summary>
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app)
    {
        var max = app.ApplicationServices.GetRequiredService<IOptions<ShardsApiOptions>>().Value.MaxRequestBodyBytes;
        return app.Use((context, next) =>
        {
            if (context.Request.ContentLength > max)
            {
                return ApiProblems.WriteAsync(
                    context, StatusCodes.Status413PayloadTooLarge, "Payload too large",
                    $"The request body has {context.Request.ContentLength:N0} bytes; this API accepts at most {max:N0} bytes. Nothing was changed.",
                    ApiErrorCodes.PayloadTooLarge);
            }

            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = max;
            }

            return next(context);
        });
    }

    /// <summary>
    /// Every route that takes a body takes a JSON body: another content type gets 415 with a message saying what to
    /// send (the binder alone answers a bare 415). Only a matched route that reads a body is checked here: a method the
    /// route does not take is routing's 405 (with <c>Allow</c>), no route at all a 404, whatever the body; a content
    /// type routing itself refuses is its 415, which gets the same detail (<see cref="ApiProblems.DefaultDetail"/>).
    /// </summary>
    public static IApplicationBuilder UseJsonBodyCheck(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var request = context.Request;
            var takesBody = context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is not null;
            if (!takesBody || !request.Path.StartsWithSegments("/api", StringComparison.Ordinal) || request.HasJsonContentType())
            {
                return next(context);
            }

            return ApiProblems.WriteAsync(
                context, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", ApiProblems.UnsupportedBody(request),
                ApiErrorCodes.UnsupportedMediaType);
        });
}
