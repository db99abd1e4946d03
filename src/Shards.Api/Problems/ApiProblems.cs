using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Shards.Api.Problems;

/// <summary>
/// RFC 9457 problem details as the API writes them: every document has <c>type</c>, <c>title</c>, <c>status</c>, a
/// <c>detail</c> a person can act on, <c>instance</c> (the request's method and path) and a <c>code</c> a program can
/// switch on, whoever raised it (an endpoint, the middleware, or the framework: no route, wrong method).
/// </summary>
public static class ApiProblems
{
    private const string Rfc9110 = "https://tools.ietf.org/html/rfc9110#section-";
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
    /// The detail of a problem the framework raised without one (no route, wrong method, a body routing refused by its
    /// content type): what was wrong, and where the routes are listed.
    /// </summary>
    public static string DefaultDetail(int status, HttpRequest request) => status switch
    {
        StatusCodes.Status404NotFound => $"No route matches {request.Method} {request.Path}. The API's routes are listed in /openapi/v1.json.",
        StatusCodes.Status405MethodNotAllowed =>
            $"{request.Method} is not allowed on {request.Path}: the Allow header lists the methods it takes (every route's are in /openapi/v1.json).",
        StatusCodes.Status415UnsupportedMediaType => UnsupportedBody(request),
        _ => $"The request {request.Method} {request.Path} failed with status {status}.",
    };

    /// <summary>The detail of a 415: the route takes JSON, and what the request sent instead.</summary>
    public static string UnsupportedBody(HttpRequest request)
    {
        var sent = request.ContentType is { Length: > 0 } type ? $"Content-Type '{type}'" : "no Content-Type";
        return $"This route takes a JSON body, but the request has {sent}. Send the body as JSON with Content-Type: application/json.";
    }

    /// <summary>
    /// The <c>type</c> of a problem with <paramref name="status"/>: the section of the RFC that defines the status (as
    /// ASP.NET Core's defaults have it, and also for 413 and 429, which those defaults leave out).
    /// </summary>
    public static string TypeFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => Rfc9110 + "15.5.1",
        StatusCodes.Status401Unauthorized => Rfc9110 + "15.5.2",
        StatusCodes.Status403Forbidden => Rfc9110 + "15.5.4",
        StatusCodes.Status404NotFound => Rfc9110 + "15.5.5",
        StatusCodes.Status405MethodNotAllowed => Rfc9110 + "15.5.6",
        StatusCodes.Status406NotAcceptable => Rfc9110 + "15.5.7",
        StatusCodes.Status408RequestTimeout => Rfc9110 + "15.5.9",
        StatusCodes.Status409Conflict => Rfc9110 + "15.5.10",
        StatusCodes.Status412PreconditionFailed => Rfc9110 + "15.5.13",
        StatusCodes.Status413PayloadTooLarge => Rfc9110 + "15.5.14",
        StatusCodes.Status415UnsupportedMediaType => Rfc9110 + "15.5.16",
        StatusCodes.Status422UnprocessableEntity => Rfc9110 + "15.5.21",
        StatusCodes.Status429TooManyRequests => "https://tools.ietf.org/html/rfc6585#section-4",
        StatusCodes.Status500InternalServerError => Rfc9110 + "15.6.1",
        StatusCodes.Status502BadGateway => Rfc9110 + "15.6.3",
        StatusCodes.Status503ServiceUnavailable => Rfc9110 + "15.6.4",
        StatusCodes.Status504GatewayTimeout => Rfc9110 + "15.6.5",
        _ => "about:blank",
    };

    /// <summary>
    /// Fills what a problem document lacks, so that every one has the same members: <c>type</c> (<see cref="TypeFor"/>),
    /// <c>instance</c> (method and path), <c>detail</c> (<see cref="DefaultDetail"/>) and <c>code</c>
    /// (<see cref="ApiErrorCodes.ForStatus"/>). What the writer of the problem set is kept.
    /// </summary>
    public static void Complete(ProblemDetails problem, HttpContext http)
    {
        var status = problem.Status ?? http.Response.StatusCode;
        problem.Status = status;
        problem.Type ??= TypeFor(status);
        problem.Instance ??= $"{http.Request.Method} {http.Request.Path}";
        problem.Detail ??= DefaultDetail(status, http.Request);
        problem.Extensions.TryAdd("code", ApiErrorCodes.ForStatus(status));
    }

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

            Complete(problem, httpContext);
            var writer = httpContext.RequestServices.GetService<IProblemDetailsService>();
            if (writer is null || !await writer.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem }))
            {
                // A client that does not accept JSON still gets the problem document (and the status code).
                await Results.Problem(problem).ExecuteAsync(httpContext);
            }
        }
    }
}
