using Shards.Cli.Core;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Client;

/// <summary>The CLI checks its settings with the validator classes the silos use, before it does anything.</summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class CliSettingsValidationTests
{
    [Theory]
    [InlineData("Shards__Client__ResponseTimeout", "-00:00:01", "ResponseTimeout")]
    [InlineData("Shards__Storage__MapLease", "00:00:01", "MapLease")]
    [InlineData("Shards__Cluster__ClusterId", " ", "ClusterId")]
    public async Task A_bad_setting_is_a_clear_error_with_the_bad_input_exit_code(string variable, string value, string named)
    {
        var run = await CliProcess.RunAsync(["members"], new Dictionary<string, string> { [variable] = value });

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("shards members: bad settings:", run.Stderr, StringComparison.Ordinal);
        Assert.Contains(named, run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
    }
}
