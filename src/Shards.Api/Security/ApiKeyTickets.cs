using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shards.Api.Problems;

namespace Shards.Api.Security;

/// <summary>A presented API key turned into an authentication result: one rule for the API and the operator pages.</summary>
internal static class ApiKeyTickets
{
    /// <summary>Success with the key's name as the caller's name, or a failure (logged) when no configured key matches.</summary>
    public static AuthenticateResult Authenticate(ApiKeys keys, string presented, string scheme, ILogger logger, PathString path)
    {
        var name = keys.Match(presented);
        if (name is null)
        {
            ApiLog.WrongApiKey(logger, path);
            return AuthenticateResult.Fail("The API key is not valid.");
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), scheme));
    }
}
