using Microsoft.AspNetCore.Authorization;

namespace Shards.Api.Security;

/// <summary>A route's scope: met when the caller's API key has it (its own handler, as ASP.NET's claim requirements are).</summary>
internal sealed class ApiScopeRequirement(string scope) : AuthorizationHandler<ApiScopeRequirement>, IAuthorizationRequirement
{
    public string Scope { get; } = scope;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiScopeRequirement requirement)
    {
        if (context.User.HasClaim(ApiKeyTickets.ScopeClaimType, requirement.Scope))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
