using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Shards.Api.Endpoints;
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
                StatusCodes.Status400BadRequest, "Invalid request", Describe(bad, httpContext), ApiErrorCodes.Validation),
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

    /// <summary>
    /// What was wrong with the body, in Shards' words: no body at all, a required field missing or null (with an example
    /// of a valid body), else the JSON reader's reason (which field, which line and position).
    /// </summary>
    private static string Describe(BadHttpRequestException exception, HttpContext http)
    {
        var request = http.Request;
        // The handler runs with the endpoint cleared; the feature keeps the one that threw.
        var endpoint = http.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint();
        var example = BodyExamples.For(endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType);
        if (exception.Message.Contains("no body was provided", StringComparison.Ordinal) || request.ContentLength == 0)
        {
            return $"The request body is missing: {request.Method} {request.Path} takes a JSON object like {example}.";
        }

        var json = exception.InnerException as JsonException;
        if (json is null)
        {
            return exception.Message;
        }

        if (RequiredFields(json.Message) is { Count: > 0 } required)
        {
            var fields = string.Join(" and ", required);
            return $"{fields} {(required.Count == 1 ? "is" : "are")} required (missing or null). Send a JSON object like {example}.";
        }

        // The reader names the body type with its namespace; the caller only needs the field and position.
        var reason = json.Message.Replace(typeof(Endpoints.ProductBody).Namespace + ".", string.Empty, StringComparison.Ordinal);
        return exception.Message.StartsWith("Failed to read parameter", StringComparison.Ordinal)
            ? $"The request body is not valid JSON for this request: {reason}"
            : $"{exception.Message} {reason}";
    }

    /// <summary>
    /// The fields (as JSON names them) that the reader found missing ("missing required properties including: 'a',
    /// 'b'") or null where a value is required ("The constructor parameter 'Name' ... doesn't allow null values");
    /// empty for any other reason.
    /// </summary>
    private static List<string> RequiredFields(string message)
    {
        var listed = message.IndexOf("missing required properties", StringComparison.Ordinal);
        var names = listed >= 0
            ? QuotedNames(message[listed..])
            : message.Contains("doesn't allow null values", StringComparison.Ordinal) ? QuotedNames(message).Take(1) : [];
        return names.Select(JsonNamingPolicy.CamelCase.ConvertName).ToList();
    }

    private static IEnumerable<string> QuotedNames(string text) =>
        Regex.Matches(text, "'([A-Za-z_][A-Za-z0-9_]*)'").Select(match => match.Groups[1].Value);
}
