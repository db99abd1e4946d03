using Shards.Api.Options;

namespace Shards.Tests.Api;

/// <summary>The HTTP API settings checked at start: the idempotency settings that would break exactly-once are refused.</summary>
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
}
