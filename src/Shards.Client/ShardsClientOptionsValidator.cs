using Microsoft.Extensions.Options;

namespace Shards.Client;

/// <summary>Checks <c>Shards:Client</c>: timeouts and periods positive, budgets not negative.</summary>
public sealed class ShardsClientOptionsValidator : IValidateOptions<ShardsClientOptions>
{
    public ValidateOptionsResult Validate(string? name, ShardsClientOptions options)
    {
        var failures = new List<string>();
        if (options.ConnectTimeout <= TimeSpan.Zero || options.ResponseTimeout <= TimeSpan.Zero || options.GatewayListRefreshPeriod <= TimeSpan.Zero
            || options.DeathWatchPeriod <= TimeSpan.Zero)
        {
            failures.Add("Shards:Client:ConnectTimeout, ResponseTimeout, GatewayListRefreshPeriod and DeathWatchPeriod must be positive.");
        }

        if (options.RetryBudget < TimeSpan.Zero || options.StorageRetryBudget < TimeSpan.Zero || options.ResendAttemptTimeout < TimeSpan.Zero)
        {
            failures.Add("Shards:Client:RetryBudget, StorageRetryBudget and ResendAttemptTimeout cannot be negative (0 turns them off).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
