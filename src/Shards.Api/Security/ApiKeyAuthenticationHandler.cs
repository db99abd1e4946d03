using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shards.Api.Problems;

namespace Shards.Api.Security;

/// <summary>
/// Authenticates a request by its <c>X-Api-Key</c> header against <see cref="ApiKeys"/>. A refused request gets 401
/// problem details that say what was wrong (no key, a wrong key, or no keys configured on this silo).
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeys keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(ApiKeys.HeaderName, out var values) || string.IsNullOrEmpty(values.ToString()))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        return Task.FromResult(ApiKeyTickets.Authenticate(keys, values.ToString(), SchemeName, Logger, Request.Path));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var presented = Request.Headers.ContainsKey(ApiKeys.HeaderName);
        var detail = keys.IsEmpty
            ? "This silo has no API keys configured, so it refuses every request. Configure one with the environment " +
              "variable Shards__Api__Keys__0=<key> (setting Shards:Api:Keys: every scope; Shards:Api:ScopedKeys for a key with some " +
              "scopes), or start the cluster with 'shards cluster up', " +
              "which creates a key in .shards/api-key and gives it to the silos."
            : presented
                ? $"The API key in the {ApiKeys.HeaderName} header is not valid."
                : $"An API key is required: send it in the {ApiKeys.HeaderName} header (with 'shards cluster up': " +
                  $"-H \"{ApiKeys.HeaderName}: $(cat .shards/api-key)\").";
        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{ApiKeys.HeaderName}\"";
        return ApiProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized", detail, ApiErrorCodes.Unauthorized);
    }
}
