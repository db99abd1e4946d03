using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Shards.Api.Problems;

/// <summary>RFC 7807 problem details as the API writes them: a title, a detail a person can act on, and a code.</summary>
public static class ApiProblems
{
    /// <summary>A problem response as an endpoint result; <paramref name="retryAfter"/> adds a <c>Retry-After</c> header.</summary>
    public static IResult Result(int status, string title, string detail, string code, TimeSpan? retryAfter = null) =>
        new ProblemResult(status, title, detail, code, retryAfter);

    public static IResult Validation(string detail) => Result(StatusCodes.Status400BadRequest, "Invalid request", detail, ApiErrorCodes.Validation);

    public static IResult NotFound(string detail) => Result(StatusCodes.Status404NotFound, "Not found", detail, ApiErrorCodes.NotFound);

    public static IResult Conflict(string detail) => Result(StatusCodes.Status409Conflict, "Conflict", detail, ApiErrorCodes.Conflict);

    public static IResult Unavailable(string detail, TimeSpan retryAfter) =>
        Result(StatusCodes.Status503ServiceUnavailable, "Service unavailable", detail, ApiErrorCodes.Unavailable, retryAfter);

    /// <summary>
    /// Writes a problem response directly (middleware, authentication, authorization, rate limiter);
    /// <paramref name="extensions"/> become more members of the document.
    /// </summary>
    public static Task WriteAsync(
        HttpContext context, int status, string title, string detail, string code, TimeSpan? retryAfter = null,
        IReadOnlyList<KeyValuePair<string, object?>>? extensions = null) =>
        new ProblemResult(status, title, detail, code, retryAfter, extensions).ExecuteAsync(context);

    /// <summary>
    /// The detail of a problem the framework raised without one (no route, wrong method): what was wrong, and where
    /// the routes are listed.
    /// </summary>
    public static string DefaultDetail(int status, string method, PathString path) => status switch
    {
        StatusCodes.Status404NotFound => $"No route matches {method} {path}. The API's routes are listed in /openapi/v1.json.",
        StatusCodes.Status405MethodNotAllowed => $"{method} is not allowed on {path}. The methods each route takes are listed in /openapi/v1.json.",
        _ => $"The request {method} {path} failed with status {status}.",
    };

    /// <summary>Whole seconds, at least 1, as <c>Retry-After</c> wants them.</summary>
    public static string RetryAfterSeconds(TimeSpan delay) =>
        Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private sealed class ProblemResult(
        int status, string title, string detail, string code, TimeSpan? retryAfter, IReadOnlyList<KeyValuePair<string, object?>>? extensions = null) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            if (retryAfter is { } delay)
            {
                httpContext.Response.Headers.RetryAfter = RetryAfterSeconds(delay);
            }

            var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Extensions = { ["code"] = code } };
            foreach (var (name, value) in extensions ?? [])
            {
                problem.Extensions[name] = value;
            }

            var writer = httpContext.RequestServices.GetService<IProblemDetailsService>();
            if (writer is null || !await writer.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem }))
            {
                // A client that does not accept JSON still gets the problem document (and the status code).
                await Results.Problem(problem).ExecuteAsync(httpContext);
            }
        }
    }
}
