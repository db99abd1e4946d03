using Shards.Contracts.Common;

namespace Shards.Tests.Sharding;

/// <summary>
/// Runs a storage call as the client's retry filter would: again after a stale-map refusal ("Shard map unconfirmed",
/// "Shard map changed"), until a deadline. The tests' 0.6 s map lease (refreshed every 0.1 s) can lapse for a moment
/// on a busy machine, a late refresh can meet a closed shard, and reads now respect both as writes do.
/// </summary>
internal static class StaleMapRetry
{
    public static async Task RunAsync(Func<Task> call)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                await call();
                return;
            }
            catch (ShardsException stale) when (
                stale.Code == ShardsErrorCode.StorageUnavailable &&
                stale.Message.StartsWith("Shard map ", StringComparison.Ordinal) &&
                DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
