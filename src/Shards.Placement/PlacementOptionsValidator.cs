using Microsoft.Extensions.Options;

namespace Shards.Placement;

/// <summary>Checks <c>Shards:Placement</c> at start.</summary>
public sealed class PlacementOptionsValidator : IValidateOptions<PlacementOptions>
{
    public ValidateOptionsResult Validate(string? name, PlacementOptions options)
    {
        var failures = new List<string>();
        if (options.SettleDelay < TimeSpan.Zero || options.RecheckPeriod <= TimeSpan.Zero || options.BatchPause < TimeSpan.Zero)
        {
            failures.Add("Shards:Placement:SettleDelay and BatchPause cannot be negative; RecheckPeriod must be positive.");
        }

        if (options.Rechecks < 0 || options.BatchSize < 1)
        {
            failures.Add($"Shards:Placement:Rechecks ({options.Rechecks}) cannot be negative and BatchSize ({options.BatchSize}) must be at least 1.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
