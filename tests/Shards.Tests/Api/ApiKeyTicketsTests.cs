using System.Security.Claims;
using Microsoft.Extensions.Logging.Abstractions;
using Shards.Api.Security;

namespace Shards.Tests.Api;

/// <summary>
/// A presented API key turned into its caller (<see cref="ApiKeyTickets"/>): the name, principal and scope claims of
/// the key that matched, built once per key and scheme rather than for every request, and a failure for any other key.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ApiKeyTicketsTests
{
    private readonly ApiKeys _keys = new(["plain-key"], [("reader-key", "read")]);

    [Fact]
    public void A_key_gets_its_name_principal_and_scopes_and_the_same_caller_on_every_request()
    {
        var first = ApiKeyTickets.Authenticate(_keys, "reader-key", "ApiKey", NullLogger.Instance, "/api/products/a");
        var second = ApiKeyTickets.Authenticate(_keys, "reader-key", "ApiKey", NullLogger.Instance, "/api/products/b");

        Assert.True(first.Succeeded);
        var user = first.Principal!;
        Assert.Equal("scoped-key-1", user.Identity!.Name);
        Assert.Equal("ApiKey", user.Identity.AuthenticationType);
        Assert.Equal(ApiKeys.PrincipalOf("reader-key"), ApiKeyTickets.PrincipalOf(user));
        Assert.Equal(["read"], ApiKeyTickets.ScopesOf(user));
        Assert.Same(user, second.Principal);
    }

    [Fact]
    public void Each_key_and_scheme_has_its_own_caller()
    {
        var reader = ApiKeyTickets.Authenticate(_keys, "reader-key", "ApiKey", NullLogger.Instance, "/api");
        var plain = ApiKeyTickets.Authenticate(_keys, "plain-key", "ApiKey", NullLogger.Instance, "/api");
        var operatorScheme = ApiKeyTickets.Authenticate(_keys, "reader-key", "OperatorKey", NullLogger.Instance, "/metrics");

        Assert.Equal("key-1", plain.Principal!.Identity!.Name);
        Assert.Equal(ApiScopes.All, ApiKeyTickets.ScopesOf(plain.Principal));
        Assert.Equal("OperatorKey", operatorScheme.Principal!.Identity!.AuthenticationType);
        Assert.NotSame(reader.Principal, operatorScheme.Principal);
        Assert.NotSame(reader.Principal, plain.Principal);
    }

    [Fact]
    public void Another_key_fails()
    {
        var result = ApiKeyTickets.Authenticate(_keys, "reader-key ", "ApiKey", NullLogger.Instance, "/api");

        Assert.False(result.Succeeded);
        Assert.Null(result.Principal);
        Assert.Equal("The API key is not valid.", result.Failure!.Message);
    }

    [Fact]
    public void A_caller_is_not_rebuilt_by_another_keys_object_with_the_same_keys()
    {
        var other = new ApiKeys(["plain-key"], [("reader-key", "read")]);

        var mine = ApiKeyTickets.Authenticate(_keys, "plain-key", "ApiKey", NullLogger.Instance, "/api").Principal!;
        var theirs = ApiKeyTickets.Authenticate(other, "plain-key", "ApiKey", NullLogger.Instance, "/api").Principal!;

        // Each ApiKeys (a silo's options) has callers of its own: equal claims, not one shared object.
        Assert.NotSame(mine, theirs);
        Assert.Equal(mine.Claims.Select(c => (c.Type, c.Value)), theirs.Claims.Select(c => (c.Type, c.Value)));
        Assert.IsType<ClaimsPrincipal>(theirs);
    }
}
