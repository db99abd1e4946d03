using Microsoft.Extensions.Logging;
using Orleans.Storage;
using Shards.Contracts.Common;

namespace Shards.Grains.Common;

/// <summary>
/// The one way grains change their state: the new state becomes current only once storage acknowledged it.
/// </summary>
internal static class StateWrites
{
    /// <summary>
    /// Makes <paramref name="next"/> the state and writes it. When the write fails the previous state object is
    /// put back, so the activation keeps serving what storage last acknowledged, and the caller gets a
    /// <see cref="ShardsException"/>: Conflict for a concurrent writer (etag mismatch; the activation is then
    /// deactivated so the next call reloads from storage), StorageUnavailable for anything else, with the reason when
    /// Shards' storage gave one (a stale shard map, a storage error it translated). Storage exceptions (e.g. Npgsql's,
    /// which are not serialisable) are logged here and never reach the caller.
    /// </summary>
    /// <param name="what">What is being changed, for the message, e.g. "product sku-1".</param>
    public static async Task CommitAsync<TState>(
        this IPersistentState<TState> storage, TState next, IGrainBase grain, ILogger logger, string what)
    {
        var previous = storage.State;
        storage.State = next;
        try
        {
            await storage.WriteStateAsync();
        }
        catch (Exception exception) when (IsInconsistentState(exception))
        {
            storage.State = previous;
            Log.WriteConflict(logger, grain.GrainContext.GrainId, exception);
            grain.DeactivateOnIdle();
            throw new ShardsException(
                ShardsErrorCode.Conflict,
                $"The {what} was changed by another writer while this change was being stored. Nothing changed; read it again and retry.");
        }
        catch (Exception exception)
        {
            storage.State = previous;
            Log.WriteFailed(logger, grain.GrainContext.GrainId, exception);
            throw new ShardsException(
                ShardsErrorCode.StorageUnavailable,
                StorageReason(exception) is { } reason
                    ? $"The {what} could not be stored: {reason}"
                    : $"The {what} could not be stored: storage is unavailable. Nothing changed; retry later.");
        }
    }

    /// <summary>The reason Shards' storage gave (e.g. a stale shard map), already fit for a caller; null for anything else.</summary>
    private static string? StorageReason(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is ShardsException shards)
            {
                return shards.Message;
            }
        }

        return null;
    }

    private static bool IsInconsistentState(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is InconsistentStateException)
            {
                return true;
            }
        }

        return false;
    }
}
