using Microsoft.Extensions.Options;

namespace Shards.Storage.Postgres;

/// <summary>
/// Checks <c>Shards:Storage</c> at start: the map's lease must outlast its refresh period (the write fence rests on
/// it), timeouts and sizes must be positive. The shards themselves (names, connection strings, no database twice) are
/// checked when the shard set is resolved (<see cref="Sharding.ShardSet.Resolve"/>).
/// </summary>
public sealed class ShardsStorageOptionsValidator : IValidateOptions<ShardsStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, ShardsStorageOptions options)
    {
        var failures = new List<string>();
        if (options.MapRefreshPeriod <= TimeSpan.Zero || options.MapLease <= options.MapRefreshPeriod)
        {
            failures.Add($"Shards:Storage:MapLease ({options.MapLease}) must be longer than Shards:Storage:MapRefreshPeriod ({options.MapRefreshPeriod}), which must be positive.");
        }

        if (options.CommandTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Shards:Storage:CommandTimeout ({options.CommandTimeout}) must be positive.");
        }

        if (options.ReshardBatchSize < 1)
        {
            failures.Add($"Shards:Storage:ReshardBatchSize ({options.ReshardBatchSize}) must be at least 1.");
        }

        if (options.GroupCommit.MaxWritesPerCommit < 1 || options.GroupCommit.Committers < 1)
        {
            failures.Add($"Shards:Storage:GroupCommit:MaxWritesPerCommit ({options.GroupCommit.MaxWritesPerCommit}) and Committers ({options.GroupCommit.Committers}) must be at least 1.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
