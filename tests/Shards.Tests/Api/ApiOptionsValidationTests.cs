using Microsoft.Extensions.Configuration;
using Shards.Api.Options;

namespace Shards.Tests.Api;

/// <summary>
/// The HTTP API settings checked at start: the idempotency settings that would break exactly-once are refused, and so
/// are API keys whose scopes are unknown or missing, and a key given twice.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ApiOptionsValidationTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.True(new ShardsApiOptionsValidator().Validate(null, new ShardsApiOptions()).Succeeded);
    }

    [Theory]
    [InlineData("00:11:00", "24:00:00", "RequestLifetime")]
    [InlineData("00:00:10", "24:00:00", "RequestLifetime")]
    [InlineData("00:05:00", "00:04:00", "Retention")]
    public void A_request_lifetime_beyond_the_longest_request_life_or_a_retention_shorter_than_it_is_refused(string lifetime, string retention, string named)
    {
        var options = new ShardsApiOptions();
        options.Idempotency.RequestLifetime = TimeSpan.Parse(lifetime, System.Globalization.CultureInfo.InvariantCulture);
        options.Idempotency.Retention = TimeSpan.Parse(retention, System.Globalization.CultureInfo.InvariantCulture);

        var result = new ShardsApiOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"Shards:Api:Idempotency:{named}", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_retry_budget_that_would_outlive_a_request_is_refused()
    {
        var result = new ShardsApiOptionsValidator().Validate(null, new ShardsApiOptions { RetryBudget = TimeSpan.FromMinutes(10) });

        Assert.True(result.Failed);
        Assert.Contains("longest life", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_keys_and_scoped_keys_given_as_environment_settings_are_valid()
    {
        var result = Validate(
            ("Keys:0", "key-everything"),
            ("ScopedKeys:0:Key", "key-shop"), ("ScopedKeys:0:Scopes", "read,write"),
            ("ScopedKeys:1:Key", "key-ops"), ("ScopedKeys:1:Scopes", " Operator catalog "));

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [InlineData("read,admin", "ScopedKeys:0:Scopes names an unknown scope 'admin'")]
    [InlineData("", "ScopedKeys:0:Scopes is empty")]
    [InlineData(" , ", "ScopedKeys:0:Scopes is empty")]
    public void A_scoped_key_with_an_unknown_or_no_scope_is_refused_naming_the_scopes_there_are(string scopes, string expected)
    {
        var result = Validate(("ScopedKeys:0:Key", "key-shop"), ("ScopedKeys:0:Scopes", scopes));

        Assert.True(result.Failed);
        Assert.Contains("Shards:Api:" + expected, result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("read, write, catalog, operator", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_given_as_scopes_by_mistake_is_not_shown()
    {
        var result = Validate(("ScopedKeys:0:Key", "read"), ("ScopedKeys:0:Scopes", "5f1c0a9e7b3d4c2a8e6f"));

        Assert.Contains("Shards:Api:ScopedKeys:0:Scopes names an unknown scope of 20 characters", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("5f1c0a9e7b3d4c2a8e6f", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scoped_key_without_a_key_is_refused()
    {
        var result = Validate(("ScopedKeys:0:Scopes", "read"));

        Assert.True(result.Failed);
        Assert.Contains("Shards:Api:ScopedKeys:0:Key is empty", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_given_twice_is_refused_without_showing_it()
    {
        var plain = Validate(("Keys:0", "key-twice"), ("Keys:1", "key-twice"));
        var scoped = Validate(("ScopedKeys:0:Key", "key-twice"), ("ScopedKeys:0:Scopes", "read"), ("ScopedKeys:1:Key", "key-twice"), ("ScopedKeys:1:Scopes", "write"));

        Assert.Contains("Shards:Api:Keys:1 is the same key as Shards:Api:Keys:0", plain.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Shards:Api:ScopedKeys:1:Key is the same key as Shards:Api:ScopedKeys:0:Key", scoped.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("key-twice", plain.FailureMessage + scoped.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plain_key_given_again_as_a_scoped_key_is_refused()
    {
        var result = Validate(("Keys:0", "key-both"), ("ScopedKeys:0:Key", "key-both"), ("ScopedKeys:0:Scopes", "read"));

        Assert.True(result.Failed);
        Assert.Contains("Shards:Api:ScopedKeys:0:Key is the same key as Shards:Api:Keys:0", result.FailureMessage, StringComparison.Ordinal);
    }

    /// <summary>Binds <c>Shards:Api</c> from settings as the host does (environment <c>Shards__Api__...</c>) and validates it.</summary>
    private static Microsoft.Extensions.Options.ValidateOptionsResult Validate(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create<string, string?>($"{ShardsApiOptions.Section}:{s.Key}", s.Value)))
            .Build();
        var options = new ShardsApiOptions();
        configuration.GetSection(ShardsApiOptions.Section).Bind(options);
        return new ShardsApiOptionsValidator().Validate(null, options);
    }
}
