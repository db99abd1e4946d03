using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shards.Api.Problems;

namespace Shards.Api.Security;

/// <summary>
/// A valid API key without the scope a route needs gets 403 problem details that name the scope needed and the scopes
/// the key has (also as <c>requiredScope</c> and <c>keyScopes</c>); the route does not run. Everything else (401
/// challenges, success) is ASP.NET's usual handling.
/// </summary>
internal sealed class ScopeForbiddenHandler(ILogger<ScopeForbiddenHandler> logger) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden || authorizeResult.AuthorizationFailure?.FailedRequirements.OfType<ApiScopeRequirement>().FirstOrDefault() is not { } missing)
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }

        var scopes = ApiKeyTickets.ScopesOf(context.User);
        var key = context.User.Identity?.Name ?? "unnamed";
        var request = context.Request;
        ApiLog.MissingScope(logger, request.Method, request.Path, key, missing.Scope, ApiScopes.Describe(scopes));
        var detail = $"{request.Method} {request.Path} needs an API key with the '{missing.Scope}' scope; this key ({key}) has: " +
            $"{ApiScopes.Describe(scopes)}. Nothing was done. Send a key with the '{missing.Scope}' scope (the silo's operator " +
            "gives scopes in Shards:Api:ScopedKeys:N:Scopes).";
        return ApiProblems.WriteAsync(
            context, StatusCodes.Status403Forbidden, "Forbidden", detail, ApiErrorCodes.Forbidden,
            extensions: [new("requiredScope", missing.Scope), new("keyScopes", scopes.ToArray())]);
    }
}
