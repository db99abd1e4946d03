using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Shards.Api.Problems;

/// <summary>
/// What escapes an endpoint: a body that could not be read (invalid JSON, missing fields, wrong content type, too
/// large) becomes 400/415/413 problem details with the reader's own explanation; anything else is a 500 that says
/// nothing about the inside. Grain errors never get here: endpoints map them (see <c>GrainCalls</c>).
/// </summary>
internal sealed class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (httpContext.Response.HasStarted)
        {
            return false;
        }

        var problem = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } bad => ApiProblems.Result(
                bad.StatusCode, "Unsupported media type", $"{bad.Message} Send the body as JSON with Content-Type: application/json.", ApiErrorCodes.UnsupportedMediaType),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } bad => ApiProblems.Result(
                bad.StatusCode, "Payload too large", bad.Message, ApiErrorCodes.PayloadTooLarge),
            BadHttpRequestException bad => ApiProblems.Result(
                StatusCodes.Status400BadRequest, "Invalid request", Describe(bad), ApiErrorCodes.Validation),
            _ => null,
        };

        if (problem is null)
        {
            if (httpContext.RequestAborted.IsCancellationRequested)
            {
                return true; // the client went away: nobody to answer
            }

            ApiLog.Unexpected(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
            problem = ApiProblems.Result(
                StatusCodes.Status500InternalServerError, "Internal error",
                $"The server failed to handle the request ({exception.GetType().Name}); it is logged on this silo.", ApiErrorCodes.Unexpected);
        }

        await problem.ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>The binder's message plus the JSON reader's reason (which field, which line and position).</summary>
    private static string Describe(BadHttpRequestException exception)
    {
        var json = exception.InnerException as JsonException;
        if (json is null)
        {
            return exception.Message;
        }

        // The reader names the body type with its namespace; the caller only needs the field and position.
        var reason = json.Message.Replace(typeof(Endpoints.ProductBody).Namespace + ".", string.Empty, StringComparison.Ordinal);
        return exception.Message.StartsWith("Failed to read parameter", StringComparison.Ordinal)
            ? $"The request body is not valid JSON for this request: {reason}"
            : $"{exception.Message} {reason}";
    }
}
