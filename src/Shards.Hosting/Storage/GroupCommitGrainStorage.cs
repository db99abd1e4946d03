using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Orleans.Runtime;
using Orleans.Storage;
using Shards.Hosting.Options;

namespace Shards.Hosting.Storage;

/// <summary>
/// Group commit in front of one shard's Orleans ADO.NET storage: writes that arrive while another commit is running
/// are sent together, as one batch of Orleans' own write statement (the <c>WriteToStorageKey</c> query of the shard's
/// <c>OrleansQuery</c> table) in one round trip and one transaction, so one WAL flush acknowledges them all. Each
/// write keeps its own version check (a stale ETag fails that write only, with <see cref="InconsistentStateException"/>)
/// and its caller is answered only after the transaction committed: durability is that of a single write. Reads and
/// clears go to the ADO.NET storage unchanged, and the stored rows are exactly the ones it writes (same hashes, same
/// serializer), so either can read what the other wrote.
/// </summary>
/// <remarks>
/// No write waits for a timer: a commit starts as soon as a committer is free, with whatever is queued. A batch
/// that PostgreSQL rejects as a whole (the transaction rolled back, nothing stored) is retried one write at a time so
/// that one bad write cannot fail the others; a batch whose outcome is unknown (the connection broke) fails all its
/// writes, exactly as a single write would fail.
/// </remarks>
public sealed partial class GroupCommitGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private readonly string _name;
    private readonly AdoNetGrainStorage _inner;
    private readonly string _serviceId;
    private readonly GroupCommitOptions _options;
    private readonly ILogger _logger;
    private readonly NpgsqlDataSource _dataSource;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = false });
    private Task[] _committers = [];
    private long _commits;
    private long _groupedWrites;

    public GroupCommitGrainStorage(
        string name, AdoNetGrainStorage inner, string connectionString, string serviceId, GroupCommitOptions options, ILogger logger)
    {
        if (options.MaxWritesPerCommit < 1 || options.Committers < 1)
        {
            throw new ArgumentException(
                $"Shards:Storage:GroupCommit needs MaxWritesPerCommit >= 1 and Committers >= 1 (got {options.MaxWritesPerCommit} and {options.Committers}).",
                nameof(options));
        }

        _name = name;
        _inner = inner;
        _serviceId = serviceId;
        _options = options;
        _logger = logger;
        // The write statement is the same text every time: prepared once per connection, PostgreSQL skips parsing and
        // planning it for every write of every batch.
        _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxAutoPrepare = Math.Max(new NpgsqlConnectionStringBuilder(connectionString).MaxAutoPrepare, 4),
            AutoPrepareMinUsages = 2,
        });
    }

    /// <summary>The ADO.NET storage that reads and clears (and writes a grain whose key is not a plain string).</summary>
    public AdoNetGrainStorage Inner => _inner;

    /// <summary>Transactions committed by the committers so far (each holding one or more writes).</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Writes the committers stored so far; divided by <see cref="Commits"/>, the writes per transaction.</summary>
    public long GroupedWrites => Interlocked.Read(ref _groupedWrites);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _inner.ReadStateAsync(stateName, grainId, grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        _inner.ClearStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (!IsPlainStringKey(grainId) || stateName.Contains('`', StringComparison.Ordinal) || _committers.Length == 0)
        {
            await _inner.WriteStateAsync(stateName, grainId, grainState);
            return;
        }

        var key = grainId.Key.ToString()!;
        var hasher = _inner.HashPicker.PickHasher(_serviceId, _name, stateName, grainId, grainState)
            ?? throw new InvalidOperationException($"Storage '{_name}' has no hasher for {stateName}.");
        var keyBytes = Encoding.UTF8.GetBytes(key);
        Array.Reverse(keyBytes);
        int? expected = string.IsNullOrWhiteSpace(grainState.ETag) ? null : int.Parse(grainState.ETag, CultureInfo.InvariantCulture);
        var write = new PendingWrite(
            hasher.Hash(keyBytes),
            hasher.Hash(Encoding.UTF8.GetBytes(stateName)),
            stateName,
            key,
            expected,
            _inner.Serializer.Serialize(grainState.State).ToArray());

        if (!_queue.Writer.TryWrite(write))
        {
            // The silo is stopping and the committers are done: write on its own.
            await _inner.WriteStateAsync(stateName, grainId, grainState);
            return;
        }

        var stored = await write.Committed.Task;
        if (stored is not { } version || version == expected)
        {
            throw new InconsistentStateException(
                $"Version conflict (WriteState): ServiceId={_serviceId} ProviderName={_name} GrainType={stateName} GrainId={key} ETag={grainState.ETag}.");
        }

        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

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
        await _dataSource.DisposeAsync();
    }

    private async Task CommitLoopAsync()
    {
        var batch = new List<PendingWrite>(_options.MaxWritesPerCommit);
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

    private async Task CommitAsync(List<PendingWrite> batch)
    {
        try
        {
            var versions = await ExecuteAsync(batch);
            Interlocked.Increment(ref _commits);
            Interlocked.Add(ref _groupedWrites, batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Committed.TrySetResult(versions[i]);
            }
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

    /// <summary>One round trip: the batch's statements in one implicit transaction (Npgsql sends one Sync at the end).</summary>
    private async Task<int?[]> ExecuteAsync(List<PendingWrite> batch)
    {
        var query = _inner.CurrentOperationalQueries.WriteToStorage;
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlBatch(connection);

        // Same order in every batch: two batches touching the same rows (two silos during a duplicate activation)
        // lock them in the same order and cannot deadlock.
        var ordered = Enumerable.Range(0, batch.Count)
            .OrderBy(i => batch[i].GrainIdHash)
            .ThenBy(i => batch[i].Key, StringComparer.Ordinal)
            .ToArray();
        foreach (var i in ordered)
        {
            command.BatchCommands.Add(Statement(query, batch[i]));
        }

        var versions = new int?[batch.Count];
        await using var reader = await command.ExecuteReaderAsync();
        foreach (var i in ordered)
        {
            versions[i] = await reader.ReadAsync() && !await reader.IsDBNullAsync(0) ? reader.GetInt32(0) : null;
            await reader.NextResultAsync();
        }

        return versions;
    }

    private NpgsqlBatchCommand Statement(string query, PendingWrite write) => new(query)
    {
        Parameters =
        {
            new NpgsqlParameter<int>("GrainIdHash", write.GrainIdHash),
            new NpgsqlParameter<long>("GrainIdN0", 0L),
            new NpgsqlParameter<long>("GrainIdN1", 0L),
            new NpgsqlParameter<int>("GrainTypeHash", write.GrainTypeHash),
            new NpgsqlParameter<string>("GrainTypeString", write.StateName),
            new NpgsqlParameter<string>("GrainIdExtensionString", write.Key),
            new NpgsqlParameter<string>("ServiceId", _serviceId),
            new NpgsqlParameter("GrainStateVersion", NpgsqlDbType.Integer) { Value = write.ExpectedVersion is { } v ? v : DBNull.Value },
            new NpgsqlParameter<byte[]>("PayloadBinary", write.Payload),
        },
    };

    /// <summary>A key with no integer or GUID part: what every Shards grain has (SKUs, cart IDs).</summary>
    private static bool IsPlainStringKey(GrainId grainId) =>
        !grainId.TryGetGuidKey(out _, out _) && !grainId.TryGetIntegerKey(out _, out _);

    [LoggerMessage(EventId = 1210, Level = LogLevel.Warning, Message = "Storage {StorageName}: PostgreSQL rejected a group commit of {Count} writes; committing them one by one")]
    private static partial void LogBatchRejected(ILogger logger, Exception exception, string storageName, int count);

    private sealed record PendingWrite(int GrainIdHash, int GrainTypeHash, string StateName, string Key, int? ExpectedVersion, byte[] Payload)
    {
        /// <summary>The stored version after the commit, or null on a version conflict.</summary>
        public TaskCompletionSource<int?> Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
