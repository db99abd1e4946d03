using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Shards.Api.Security;

/// <summary>Every route needs one scope of the caller's API key (<see cref="ApiScopes"/>); without it, 403.</summary>
public static class ScopeAccess
{
    /// <summary>
    /// Requires an <c>X-Api-Key</c> with <paramref name="scope"/> (401 without a valid key, 403 with a key that lacks
    /// it) and says so in the route's OpenAPI description.
    /// </summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(ApiScopes.PolicyName(scope)).WithDescription($"Needs an API key with the '{scope}' scope (403 without it).");

    /// <summary>
    /// A valid key that has <paramref name="scope"/>: of <paramref name="authenticationScheme"/>, or, without one, of the
    /// scheme the authentication middleware ran (the default scheme).
    /// </summary>
    internal static AuthorizationPolicy Policy(string scope, string? authenticationScheme = null) =>
        (authenticationScheme is null ? new AuthorizationPolicyBuilder() : new AuthorizationPolicyBuilder(authenticationScheme))
            .RequireAuthenticatedUser().AddRequirements(new ApiScopeRequirement(scope)).Build();
}
