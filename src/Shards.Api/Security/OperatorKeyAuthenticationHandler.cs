using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shards.Api.Problems;

namespace Shards.Api.Security;

/// <summary>
/// The same API keys, for the operator pages a silo serves beside the API (the Orleans Dashboard, the Prometheus
/// scrape endpoint), whose callers cannot always set an <c>X-Api-Key</c> header: a browser answers a Basic challenge
/// (any user name, the API key as password) and sends it with every request of the page; Prometheus sends
/// <c>basic_auth</c> or a Bearer token. The header works too (curl).
/// </summary>
internal sealed class OperatorKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeys keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "OperatorKey";

    public const string Realm = "Shards operator pages";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey(Request);
        if (string.IsNullOrEmpty(presented))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        return Task.FromResult(ApiKeyTickets.Authenticate(keys, presented, SchemeName, Logger, Request.Path));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var detail = keys.IsEmpty
            ? "This silo has no API keys configured, so it refuses every request. Configure one with Shards__Api__Keys__0=<key>."
            : PresentedKey(Request) is { Length: > 0 }
                ? "The API key is not valid."
                : $"An API key is required: in a browser, give any user name and the API key as password; with curl, " +
                  $"-u :KEY or -H \"{ApiKeys.HeaderName}: KEY\"; with Prometheus, basic_auth (password = the key).";
        Response.Headers.WWWAuthenticate = $"Basic realm=\"{Realm}\", charset=\"UTF-8\"";
        return ApiProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized", detail, ApiErrorCodes.Unauthorized);
    }

    /// <summary>The key from <c>X-Api-Key</c>, <c>Authorization: Bearer KEY</c> or <c>Authorization: Basic</c> (its password).</summary>
    internal static string? PresentedKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue(ApiKeys.HeaderName, out var header) && !string.IsNullOrEmpty(header.ToString()))
        {
            return header.ToString();
        }

        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var authorization) || authorization.Parameter is not { } parameter)
        {
            return null;
        }

        if (authorization.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return parameter;
        }

        if (!authorization.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            var credentials = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
            var colon = credentials.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? null : credentials[(colon + 1)..];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
