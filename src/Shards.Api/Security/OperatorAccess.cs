using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;

namespace Shards.Api.Security;

/// <summary>Protects an operator endpoint (dashboard, metrics) with the API keys, as a browser or Prometheus can send them.</summary>
public static class OperatorAccess
{
    public const string PolicyName = "OperatorKey";

    internal static AuthorizationPolicy Policy { get; } =
        new AuthorizationPolicyBuilder(OperatorKeyAuthenticationHandler.SchemeName).RequireAuthenticatedUser().Build();

    /// <summary>Requires an API key (<c>X-Api-Key</c>, Basic password or Bearer token); 401 with a Basic challenge without one.</summary>
    public static TBuilder RequireOperatorKey<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.RequireAuthorization(PolicyName);
}
