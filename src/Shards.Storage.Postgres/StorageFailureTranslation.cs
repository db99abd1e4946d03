using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Contracts.Common;
using Shards.Storage;

namespace Shards.Storage.Postgres;

/// <summary>
/// Wraps a grain storage so that no database driver exception crosses the wire: Npgsql's exceptions cannot be
/// serialised and would reach a client as CodecNotFoundException. This matters most when a grain loads its
/// state on activation, before the grain's own code can catch anything. ETag conflicts
/// (<see cref="InconsistentStateException"/>) pass through unchanged: the grain turns them into a reload.
/// </summary>
public sealed partial class StorageFailureTranslation(string storageName, IGrainStorage inner, ILogger logger)
    : IGrainStorage, IRequestLogStorage, ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>The wrapped storage.</summary>
    public IGrainStorage Inner => inner;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        TranslateAsync(() => inner.ReadStateAsync(stateName, grainId, grainState), "read", stateName, grainId);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        TranslateAsync(() => inner.WriteStateAsync(stateName, grainId, grainState), "write", stateName, grainId);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        TranslateAsync(() => inner.ClearStateAsync(stateName, grainId, grainState), "clear", stateName, grainId);

    /// <summary>The wrapped storage's request log; none (null) when it keeps none.</summary>
    public async Task<LoggedRequest?> FindAsync(string stateName, GrainId grainId, Guid requestId)
    {
        if (inner is not IRequestLogStorage log)
        {
            return null;
        }

        LoggedRequest? found = null;
        await TranslateAsync(async () => found = await log.FindAsync(stateName, grainId, requestId), "look up a request of", stateName, grainId);
        return found;
    }

    /// <summary>The wrapped storage initialises itself in the silo lifecycle; keep that.</summary>
    public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);

    private async Task TranslateAsync(Func<Task> operation, string verb, string stateName, GrainId grainId)
    {
        try
        {
            await operation();
        }
        catch (Exception ex) when (ex is not (InconsistentStateException or ShardsException or OperationCanceledException))
        {
            LogStorageFailure(logger, ex, verb, stateName, grainId, storageName);
            throw new ShardsException(
                ShardsErrorCode.StorageUnavailable,
                $"Could not {verb} the {stateName} state of {grainId} in storage '{storageName}' " +
                $"({Root(ex).GetType().Name}: {Root(ex).Message}). {Consequence(verb)}");
        }
    }

    /// <summary>
    /// What the caller may assume: a failed read or lookup changed nothing; a failed write or clear may have been stored
    /// (its commit may have landed while the answer was lost), so the caller retries under the same request ID.
    /// </summary>
    private static string Consequence(string verb) => verb is "write" or "clear"
        ? "Its outcome is unknown: retry with the same request ID, which applies it once or answers its original outcome."
        : "Nothing changed; retry later.";

    private static Exception Root(Exception ex) => ex.InnerException is { } inner && ex is AggregateException or OrleansException ? Root(inner) : ex;

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Storage {Verb} of {StateName} for {GrainId} failed in '{StorageName}'")]
    private static partial void LogStorageFailure(ILogger logger, Exception exception, string verb, string stateName, GrainId grainId, string storageName);
}
