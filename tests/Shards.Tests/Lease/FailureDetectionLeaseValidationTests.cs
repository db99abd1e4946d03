using Shards.Server.Options;

namespace Shards.Tests.Lease;

/// <summary>
/// The validator keeps the majority lease safe: it must run out before the majority can declare a cut-off silo dead,
/// (MissedProbesLimit - 1) x ProbeTimeout / 2 after the cut (Orleans' adaptive probes), and outlast one probe period.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class FailureDetectionLeaseValidationTests
{
    private readonly FailureDetectionOptionsValidator _validator = new();

    [Fact]
    public void The_defaults_are_valid_and_turn_the_lease_on()
    {
        var defaults = new FailureDetectionOptions();

        Assert.True(_validator.Validate(null, defaults).Succeeded);
        Assert.True(defaults.MajorityLeaseEnabled);
        Assert.Equal(TimeSpan.FromSeconds(0.9), defaults.MajorityLease);
        Assert.Equal(TimeSpan.FromMilliseconds(250), defaults.LeaseProbePeriod);
    }

    [Theory]
    [InlineData(1.0, 1.0, 3)] // equal to the earliest death declaration (2 x 0.5 s)
    [InlineData(1.5, 1.0, 3)] // the first lease's default: longer than 2 x 0.5 s
    [InlineData(0.6, 1.0, 2)] // 1 x 0.5 s
    [InlineData(0.5, 1.0, 1)] // a single missed probe declares at once: no lease is safe
    public void A_lease_that_could_outlast_the_earliest_death_declaration_is_refused(double leaseSeconds, double probeTimeoutSeconds, int missedProbes)
    {
        var options = new FailureDetectionOptions
        {
            MajorityLease = TimeSpan.FromSeconds(leaseSeconds),
            ProbeTimeout = TimeSpan.FromSeconds(probeTimeoutSeconds),
            MaxProbeTimeout = TimeSpan.FromSeconds(probeTimeoutSeconds),
            MissedProbesLimit = missedProbes,
            LeaseProbePeriod = TimeSpan.FromMilliseconds(100),
        };

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Shards:FailureDetection:MajorityLease", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("shorter than (MissedProbesLimit - 1) x ProbeTimeout / 2", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lease_no_longer_than_the_probe_period_is_refused()
    {
        var result = _validator.Validate(null, new FailureDetectionOptions { MajorityLease = TimeSpan.FromMilliseconds(250), LeaseProbePeriod = TimeSpan.FromMilliseconds(250) });

        Assert.True(result.Failed);
        Assert.Contains("longer than LeaseProbePeriod", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lease_just_under_the_earliest_death_declaration_is_accepted()
    {
        var result = _validator.Validate(null, new FailureDetectionOptions { MajorityLease = TimeSpan.FromSeconds(0.999) });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void With_the_lease_off_its_timings_are_not_checked()
    {
        var options = new FailureDetectionOptions { MajorityLeaseEnabled = false, MajorityLease = TimeSpan.FromSeconds(30), MissedProbesLimit = 1 };

        Assert.True(_validator.Validate(null, options).Succeeded);
    }
}
