using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;

namespace Shards.Api.Security;

/// <summary>
/// Protects an operator endpoint (dashboard, metrics) with an API key that has the <see cref="ApiScopes.Operator"/>
/// scope, as a browser or Prometheus can send it.
/// </summary>
public static class OperatorAccess
{
    public const string PolicyName = "OperatorKey";

    internal static AuthorizationPolicy Policy { get; } = ScopeAccess.Policy(ApiScopes.Operator, OperatorKeyAuthenticationHandler.SchemeName);

    /// <summary>
    /// Requires an API key with the operator scope (<c>X-Api-Key</c>, Basic password or Bearer token); 401 with a
    /// Basic challenge without a valid key, 403 with a key that lacks the scope.
    /// </summary>
    public static TBuilder RequireOperatorKey<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.RequireAuthorization(PolicyName);
}
