using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shards.Api.Problems;

namespace Shards.Api.Security;

/// <summary>A presented API key turned into an authentication result: one rule for the API and the operator pages.</summary>
internal static class ApiKeyTickets
{
    /// <summary>The claim holding <see cref="ApiKeyMatch.Principal"/>: who owns an <c>Idempotency-Key</c>.</summary>
    public const string PrincipalClaimType = "shards:principal";

    /// <summary>One claim per scope of the key (<see cref="ApiScopes"/>).</summary>
    public const string ScopeClaimType = "shards:scope";

    private static readonly ConditionalWeakTable<ApiKeyMatch, ConcurrentDictionary<string, AuthenticateResult>> s_results = [];

    /// <summary>
    /// Success with the key's name as the caller's name (and its principal and scopes as claims), or a failure (logged)
    /// when no configured key matches.
    /// </summary>
    public static AuthenticateResult Authenticate(ApiKeys keys, string presented, string scheme, ILogger logger, PathString path)
    {
        var match = keys.Match(presented);
        if (match is null)
        {
            ApiLog.WrongApiKey(logger, path);
            return AuthenticateResult.Fail("The API key is not valid.");
        }

        // One result per key and scheme, built on the key's first request: the claims never change while the silo runs,
        // and nothing downstream changes a principal (authorization merges them into a new one when it must).
        var bySchemes = s_results.GetValue(match, static _ => new ConcurrentDictionary<string, AuthenticateResult>(StringComparer.Ordinal));
        return bySchemes.GetOrAdd(scheme, static (scheme, match) =>
        {
            var identity = new ClaimsIdentity(
                [new Claim(ClaimTypes.Name, match.Name), new Claim(PrincipalClaimType, match.Principal), .. match.Scopes.Select(s => new Claim(ScopeClaimType, s))],
                scheme);
            return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), scheme));
        }, match);
    }

    /// <summary>The principal of the authenticated caller, if any.</summary>
    public static string? PrincipalOf(ClaimsPrincipal user) => user.FindFirst(PrincipalClaimType)?.Value;

    /// <summary>The scopes of the authenticated caller's key, in <see cref="ApiScopes.All"/> order (none without a key).</summary>
    public static IReadOnlyList<string> ScopesOf(ClaimsPrincipal? user) =>
        user is null ? [] : ApiScopes.All.Where(scope => user.HasClaim(ScopeClaimType, scope)).ToList();
}
