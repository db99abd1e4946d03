using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Storage;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Storage.Postgres;

/// <summary>
/// Group commit in front of one shard's Orleans ADO.NET storage: writes that arrive while another commit is running
/// are sent together, as one batch of Orleans' own compare-and-set write (logging the request each applies,
/// <see cref="ShardWriteStatements"/>) in one round trip and one transaction, so one WAL flush acknowledges them all. Each
/// write keeps its own version check (a stale ETag fails that write only, with <see cref="InconsistentStateException"/>)
/// and its caller is answered only after the transaction committed: durability is that of a single write. Clears go
/// to the ADO.NET storage unchanged; reads are Orleans' read statement plus the grain's request log, and the stored rows are exactly the ones Orleans' storage writes (same hashes, same serializer), so either can read what
/// the other wrote.
/// </summary>
/// <remarks>
/// No write waits for a timer: a commit starts as soon as a committer is free, with whatever is queued. A batch
/// that PostgreSQL rejects as a whole (the transaction rolled back, nothing stored) is retried one write at a time so
/// that one bad write cannot fail the others; a batch whose outcome is unknown (the connection broke) fails all its
/// writes, exactly as a single write would fail. Writes routed by the shard map carry its version, and a batch holding
/// any starts with the shard's write-fence check for the oldest of them (one more statement in the same round trip,
/// <see cref="ShardWriteFence"/>); when the fence refuses it, the writes routed with a closed map get the stale-map
/// refusal and the others are committed again.
/// </remarks>
public sealed partial class GroupCommitGrainStorage : IFencedGrainStorage, IRequestLogStorage, ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private readonly string _name;
    private readonly AdoNetGrainStorage _inner;
    private readonly ShardWriteStatements _statements;
    private readonly GroupCommitOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<ShardWrite> _queue = Channel.CreateUnbounded<ShardWrite>(new UnboundedChannelOptions { SingleReader = false });
    private Task[] _committers = [];
    private long _commits;
    private long _groupedWrites;

    /// <param name="dataSource">The shard database's data source (<see cref="Shards.Postgres.PostgresDataSources"/>).</param>
    /// <param name="commandTimeout">The longest wait for each read and write statement; null: the data source's default.</param>
    public GroupCommitGrainStorage(
        string name, AdoNetGrainStorage inner, NpgsqlDataSource dataSource, TimeSpan? commandTimeout, string serviceId, GroupCommitOptions options, ILogger logger)
    {
        if (options.MaxWritesPerCommit < 1 || options.Committers < 1)
        {
            throw new ArgumentException(
                $"Shards:Storage:GroupCommit needs MaxWritesPerCommit >= 1 and Committers >= 1 (got {options.MaxWritesPerCommit} and {options.Committers}).",
                nameof(options));
        }

        _name = name;
        _inner = inner;
        _statements = new ShardWriteStatements(name, inner, serviceId, dataSource, commandTimeout);
        _options = options;
        _logger = logger;
    }

    /// <summary>The ADO.NET storage that clears (and reads and writes a grain whose key is not a plain string).</summary>
    public AdoNetGrainStorage Inner => _inner;

    /// <summary>The shard database's data source its reads and writes use.</summary>
    internal NpgsqlDataSource DataSource => _statements.DataSource;

    /// <summary>Transactions committed by the committers so far (each holding one or more writes).</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Writes the committers stored so far; divided by <see cref="Commits"/>, the writes per transaction.</summary>
    public long GroupedWrites => Interlocked.Read(ref _groupedWrites);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _statements.ReadStateAsync(stateName, grainId, grainState, mapVersion: null);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion) =>
        _statements.ReadStateAsync(stateName, grainId, grainState, mapVersion);

    public Task<LoggedRequest?> FindAsync(string stateName, GrainId grainId, Guid requestId) =>
        _statements.FindAsync(stateName, grainId, requestId);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _inner.ClearStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteAsync(stateName, grainId, grainState, mapVersion: null);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int mapVersion) =>
        WriteAsync(stateName, grainId, grainState, mapVersion);

    /// <summary>The ADO.NET storage loads its queries at start-up; the committers start right after it.</summary>
    public void Participate(ISiloLifecycle lifecycle)
    {
        _inner.Participate(lifecycle);
        lifecycle.Subscribe($"GroupCommit-{_name}", ServiceLifecycleStage.RuntimeStorageServices + 1, StartAsync, StopAsync);
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        if (_committers.Length == 0)
        {
            // The committers are the storage's own loops, on the thread pool: they never run on a grain's scheduler.
            _committers = Enumerable.Range(0, _options.Committers)
                .Select(_ => Task.Factory.StartNew(CommitLoopAsync, CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default).Unwrap())
                .ToArray();
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops taking writes; writes already queued are still committed.</summary>
    private async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_committers);
    }

    private async Task WriteAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, int? mapVersion)
    {
        if (!ShardWriteStatements.CanSend(stateName, grainId) || _committers.Length == 0)
        {
            await _inner.WriteStateAsync(stateName, grainId, grainState);
            return;
        }

        var write = _statements.Prepare(stateName, grainId, grainState, mapVersion);
        if (!_queue.Writer.TryWrite(write))
        {
            // The silo is stopping and the committers are done: write on its own, behind the fence all the same.
            _statements.Complete(write, await _statements.WriteOneAsync(write), grainState);
            return;
        }

        _statements.Complete(write, await write.Committed.Task, grainState);
    }

    private async Task CommitLoopAsync()
    {
        var batch = new List<ShardWrite>(_options.MaxWritesPerCommit);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < _options.MaxWritesPerCommit && _queue.Reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            if (batch.Count > 0)
            {
                await CommitAsync(batch);
                batch.Clear();
            }
        }
    }

    private async Task CommitAsync(List<ShardWrite> batch)
    {
        try
        {
            int?[] versions;
            await using (var connection = await _statements.DataSource.OpenConnectionAsync())
            {
                versions = await _statements.ExecuteAsync(connection, batch);
            }

            Interlocked.Increment(ref _commits);
            Interlocked.Add(ref _groupedWrites, batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Committed.TrySetResult(versions[i]);
            }
        }
        catch (PostgresException refused) when (ShardWriteFence.RefusedBelow(refused) is { } accepted)
        {
            // The shard's write fence refused the transaction (nothing of it is stored): a resharding closed this shard to
            // maps older than the oldest one in the batch. Refuse the writes routed with such a map; commit the others.
            var current = new List<ShardWrite>(batch.Count);
            foreach (var write in batch)
            {
                if (write.MapVersion < accepted)
                {
                    write.Committed.TrySetException(_statements.Refusal(write, accepted));
                }
                else
                {
                    current.Add(write);
                }
            }

            if (current.Count > 0)
            {
                await CommitAsync(current);
            }
        }
        catch (PostgresException duplicate) when (batch.Count == 1 && ShardWriteStatements.IsAlreadyLogged(duplicate))
        {
            // The write's request is already logged for the grain (applied by another activation): nothing was stored.
            // A version conflict for the grain, which reloads and answers the original outcome.
            batch[0].Committed.TrySetResult(null);
        }
        catch (PostgresException rejected) when (batch.Count > 1)
        {
            // PostgreSQL refused the batch and rolled it back: nothing of it is stored. Find the write at fault.
            LogBatchRejected(_logger, rejected, _name, batch.Count);
            foreach (var write in batch)
            {
                await CommitAsync([write]);
            }
        }
        catch (Exception failed)
        {
            foreach (var write in batch)
            {
                write.Committed.TrySetException(failed);
            }
        }
    }

    [LoggerMessage(EventId = 1210, Level = LogLevel.Warning, Message = "Storage {StorageName}: PostgreSQL rejected a group commit of {Count} writes; committing them one by one")]
    private static partial void LogBatchRejected(ILogger logger, Exception exception, string storageName, int count);
}
