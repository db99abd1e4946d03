using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans.Configuration;
using Shards.Api.Options;

namespace Shards.Api.Idempotency;

/// <summary>Who used an <c>Idempotency-Key</c>: the API key's principal and the key itself (the service is the store's).</summary>
internal readonly record struct IdempotencyKeyRef(string Principal, string Key);

/// <summary>What an <c>Idempotency-Key</c> is bound to: the method, the route (path and query) and the body's SHA-256.</summary>
internal sealed record RequestFingerprint(string Method, string Route, byte[] BodySha256);

/// <summary>
/// One <c>Idempotency-Key</c> record: the request it stands for, the request ID and deadline its grain calls carry, and
/// its final answer (null while no final answer is stored).
/// </summary>
internal sealed record IdempotencyRecord(RequestFingerprint Fingerprint, Guid RequestId, DateTimeOffset Deadline, StoredResponse? Response);

/// <summary>The records could not be read or written (PostgreSQL down, slow, or refusing): nothing was run.</summary>
internal sealed class IdempotencyStoreUnavailableException(string message, Exception innerException) : Exception(message, innerException);

/// <summary>
/// <c>shards_http_idempotency</c> in the main database (migration 0011): one row per (service, principal, key), on
/// pooled connections of the process's <see cref="NpgsqlDataSource"/>; every call is bounded by
/// <see cref="ApiIdempotencyOptions.DatabaseTimeout"/>, and any failure is an <see cref="IdempotencyStoreUnavailableException"/>.
/// </summary>
/// <remarks>
/// With <see cref="ApiIdempotencyOptions.GroupCommit"/> (the default), the hot statements (a record's creation,
/// <see cref="BeginAsync"/>, and its final answer, <see cref="CompleteAsync"/>) of requests that arrive while another
/// commit is running are sent together: one batch, one round trip, one transaction (Npgsql sends a batch as one implicit
/// transaction), so one WAL flush stores them all. Each statement is the one it would be alone, and each caller is
/// answered only once the batch committed: a record is as durable as with a statement of its own. A batch PostgreSQL
/// rejects as a whole (rolled back: nothing stored, e.g. a deadlock between two batches) is sent again one statement at
/// a time, so one bad statement fails only its own caller; a batch whose outcome is unknown (the connection broke, no
/// answer in time) fails every caller in it, as a lone statement would.
/// </remarks>
internal sealed class IdempotencyStore : IAsyncDisposable
{
    private const string Columns = "method, route, body_sha256, request_id, deadline, status, content_type, location, body";
    private const string WhereKey = "serviceid = @service AND principal = @principal AND idempotency_key = @key";

    // One statement: insert, or read the row that is there. A row committed by a concurrent request after this
    // statement's snapshot was taken is neither inserted nor seen; the next statement sees it. In a batch, a row an
    // earlier statement of the same transaction inserted is seen (created false).
    private const string BeginSql =
        $"""
        WITH inserted AS (
            INSERT INTO shards_http_idempotency
                (serviceid, principal, idempotency_key, method, route, body_sha256, request_id, deadline, expires_at)
            VALUES (@service, @principal, @key, @method, @route, @body_sha256, @request, @deadline, @expires)
            ON CONFLICT ON CONSTRAINT shards_http_idempotency_pk DO NOTHING
            RETURNING true AS created, {Columns})
        SELECT * FROM inserted
        UNION ALL
        SELECT false, {Columns} FROM shards_http_idempotency
         WHERE {WhereKey} AND NOT EXISTS (SELECT 1 FROM inserted)
        """;

    // RETURNING: every statement of a batch answers rows, counted by the reader.
    private const string CompleteSql =
        $"""
        UPDATE shards_http_idempotency
           SET status = @status, content_type = @content_type, location = @location, body = @response_body, completed_at = now()
         WHERE {WhereKey} AND request_id = @request
           AND (status IS NULL OR (status >= 400 AND @status < 300))
        RETURNING 1
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _serviceId;
    private readonly TimeSpan _timeout;
    private readonly ApiIdempotencyOptions _settings;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _startLock = new();
    private static long s_sequence;
    private Task[]? _committers;
    private long _commits;
    private long _groupedStatements;

    public IdempotencyStore(NpgsqlDataSource dataSource, IOptions<ShardsApiOptions> options, IOptions<ClusterOptions> cluster)
    {
        _dataSource = dataSource;
        _serviceId = cluster.Value.ServiceId;
        _settings = options.Value.Idempotency;
        _timeout = _settings.DatabaseTimeout;
    }

    /// <summary>Transactions of record creations and answers committed so far (each holding one or more of them).</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Record creations and answers committed so far; divided by <see cref="Commits"/>, the statements per transaction.</summary>
    public long GroupedStatements => Interlocked.Read(ref _groupedStatements);

    /// <summary>
    /// Creates the record with <paramref name="requestId"/> and <paramref name="deadline"/>, or returns the existing
    /// one (Created false) untouched.
    /// </summary>
    public async Task<(IdempotencyRecord Record, bool Created)> BeginAsync(
        IdempotencyKeyRef key, RequestFingerprint fingerprint, Guid requestId, DateTimeOffset deadline, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var found = await ExecuteAsync(
                key,
                BeginSql,
                parameters =>
                {
                    parameters.AddWithValue("method", fingerprint.Method);
                    parameters.AddWithValue("route", fingerprint.Route);
                    parameters.AddWithValue("body_sha256", fingerprint.BodySha256);
                    parameters.AddWithValue("request", requestId);
                    parameters.AddWithValue("deadline", deadline.ToUniversalTime());
                    parameters.AddWithValue("expires", expiresAt.ToUniversalTime());
                },
                async (reader, token) => await reader.ReadAsync(token) ? (reader.GetBoolean(0), ReadRecord(reader, 1)) : ((bool, IdempotencyRecord)?)null,
                cancellationToken);
            if (found is { } row)
            {
                return (row.Item2, row.Item1);
            }

            if (attempt >= 5)
            {
                throw new IdempotencyStoreUnavailableException(
                    "the record was neither created nor found (it is being created and deleted concurrently)", new InvalidOperationException("no row"));
            }
        }
    }

    /// <summary>The record, or null when there is none (pruned, or never made).</summary>
    public Task<IdempotencyRecord?> LoadAsync(IdempotencyKeyRef key, CancellationToken cancellationToken) =>
        QueryAsync(
            $"SELECT {Columns} FROM shards_http_idempotency WHERE {WhereKey}",
            command => AddKey(command.Parameters, key),
            async (reader, token) => await reader.ReadAsync(token) ? ReadRecord(reader, 0) : null,
            cancellationToken);

    /// <summary>
    /// Stores <paramref name="response"/> as the final answer of the record's request <paramref name="requestId"/>.
    /// False when the record has a final answer already (another copy stored it first), unless that answer was a 4xx
    /// and this one a 2xx: a copy that applied the request tells the truth about it, so it replaces the rejection.
    /// False too when the record now stands for another request ID.
    /// </summary>
    public async Task<bool> CompleteAsync(IdempotencyKeyRef key, Guid requestId, StoredResponse response, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            key,
            CompleteSql,
            parameters =>
            {
                parameters.AddWithValue("request", requestId);
                parameters.AddWithValue("status", response.Status);
                parameters.Add(new NpgsqlParameter("content_type", NpgsqlDbType.Text) { Value = (object?)response.ContentType ?? DBNull.Value });
                parameters.Add(new NpgsqlParameter("location", NpgsqlDbType.Text) { Value = (object?)response.Location ?? DBNull.Value });
                parameters.AddWithValue("response_body", response.Body);
            },
            async (reader, token) =>
            {
                var rows = 0;
                while (await reader.ReadAsync(token))
                {
                    rows++;
                }

                return rows;
            },
            cancellationToken) == 1;

    /// <summary>
    /// Gives a record without a final answer a new request ID and deadline, if it still stands for
    /// <paramref name="expired"/> (compare-and-set: of two requests that saw it expire, one re-arms it). The record is
    /// kept at least until the new deadline.
    /// </summary>
    public async Task<bool> RearmAsync(IdempotencyKeyRef key, Guid expired, Guid requestId, DateTimeOffset deadline, CancellationToken cancellationToken) =>
        await RunAsync(
            $"""
            UPDATE shards_http_idempotency
               SET request_id = @request, deadline = @deadline, expires_at = greatest(expires_at, @deadline)
             WHERE {WhereKey} AND request_id = @expired AND status IS NULL
            """,
            command =>
            {
                AddKey(command.Parameters, key);
                command.Parameters.AddWithValue("expired", expired);
                command.Parameters.AddWithValue("request", requestId);
                command.Parameters.AddWithValue("deadline", deadline.ToUniversalTime());
            },
            async (command, token) => await command.ExecuteNonQueryAsync(token),
            cancellationToken) == 1;

    /// <summary>Deletes at most <paramref name="limit"/> records past their retention; 0 when another silo is pruning.</summary>
    public Task<int> PruneAsync(int limit, CancellationToken cancellationToken) =>
        RunAsync(
            "SELECT shards_http_idempotency_prune(@limit)",
            command => command.Parameters.AddWithValue("limit", limit),
            async (command, token) => Convert.ToInt32(await command.ExecuteScalarAsync(token), System.Globalization.CultureInfo.InvariantCulture),
            cancellationToken);

    public async ValueTask DisposeAsync()
    {
        Task[]? committers;
        lock (_startLock)
        {
            committers = _committers;
            _committers = [];
        }

        // The HTTP server stopped first (requests in flight finished): let what is queued commit, for at most one
        // DatabaseTimeout, then stop the committers where they are.
        _queue.Writer.TryComplete();
        if (committers is { Length: > 0 })
        {
            try
            {
                await Task.WhenAll(committers).WaitAsync(_timeout);
            }
            catch (TimeoutException)
            {
                await _stopping.CancelAsync();
                await Task.WhenAll(committers);
            }
        }

        await _stopping.CancelAsync();

        // Whatever was still queued when the committers stopped: its callers are told, nothing was stored.
        while (_queue.Reader.TryRead(out var left))
        {
            left.Fail(Stopping());
        }

        _stopping.Dispose();
    }

    /// <summary>One hot statement: in the group commit's next batch, or a batch of its own without group commit.</summary>
    private async Task<T> ExecuteAsync<T>(
        IdempotencyKeyRef key, string sql, Action<NpgsqlParameterCollection> bind, Func<NpgsqlDataReader, CancellationToken, Task<T>> read,
        CancellationToken cancellationToken)
    {
        var pending = new Pending<T>(key, sql, parameters =>
        {
            AddKey(parameters, key);
            bind(parameters);
        }, read, Interlocked.Increment(ref s_sequence));
        if (!_settings.GroupCommit)
        {
            if (await TryCommitAsync([pending], cancellationToken) is { } failure)
            {
                cancellationToken.ThrowIfCancellationRequested();
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }

            return await pending.Result;
        }

        EnsureCommitters();
        if (!_queue.Writer.TryWrite(pending))
        {
            throw Stopping();
        }

        try
        {
            return await pending.Result.WaitAsync(_timeout, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw new IdempotencyStoreUnavailableException($"no answer within {_timeout.TotalSeconds:0.#} s", ex);
        }
    }

    private static IdempotencyStoreUnavailableException Stopping() =>
        new("the silo is stopping", new OperationCanceledException());

    /// <summary>The committers start with the first record change; not in any request's execution context.</summary>
    private void EnsureCommitters()
    {
        if (Volatile.Read(ref _committers) is not null)
        {
            return;
        }

        lock (_startLock)
        {
            if (_committers is not null)
            {
                return;
            }

            using (ExecutionContext.SuppressFlow())
            {
                _committers = [.. Enumerable.Range(0, _settings.Committers).Select(_ => Task.Run(CommitLoopAsync))];
            }
        }
    }

    private async Task CommitLoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(_settings.MaxRecordsPerCommit);
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                batch.Clear();
                while (batch.Count < _settings.MaxRecordsPerCommit && reader.TryRead(out var pending))
                {
                    batch.Add(pending);
                }

                if (batch.Count > 0)
                {
                    await CommitAsync(batch);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping: DisposeAsync tells whatever is left in the queue.
        }
    }

    /// <summary>
    /// Runs <paramref name="batch"/> in one transaction and answers each caller; rejected as a whole, one at a time.
    /// Ordered by key (statements on the same key in arrival order), so two batches take row locks in the same order.
    /// </summary>
    private async Task CommitAsync(List<Pending> batch)
    {
        if (batch.Count > 1)
        {
            batch.Sort(static (a, b) => a.Key.Principal != b.Key.Principal ? string.CompareOrdinal(a.Key.Principal, b.Key.Principal)
                : a.Key.Key != b.Key.Key ? string.CompareOrdinal(a.Key.Key, b.Key.Key)
                : a.Sequence.CompareTo(b.Sequence));
        }

        var failure = await TryCommitAsync(batch, CancellationToken.None);
        if (failure is null)
        {
            return;
        }

        if (batch.Count > 1 && (failure.InnerException is PostgresException || failure is not IdempotencyStoreUnavailableException))
        {
            // Refused as a whole (by PostgreSQL, or a statement Npgsql could not send): rolled back, nothing of it
            // stored. Each statement alone, so only a bad one fails.
            foreach (var pending in batch)
            {
                if (await TryCommitAsync([pending], CancellationToken.None) is { } alone)
                {
                    pending.Fail(alone);
                }
            }

            return;
        }

        foreach (var pending in batch)
        {
            pending.Fail(failure);
        }
    }

    /// <summary>
    /// One batch, one implicit transaction: null when it committed (every caller in it answered), else why not (no
    /// caller answered: the caller decides): <see cref="IdempotencyStoreUnavailableException"/> when PostgreSQL refused
    /// it or did not answer, or what else went wrong (a statement that could not be sent).
    /// </summary>
    private async Task<Exception?> TryCommitAsync(IReadOnlyList<Pending> batch, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        timeout.CancelAfter(_timeout);
        try
        {
            await using var npgsql = _dataSource.CreateBatch();
            npgsql.Timeout = Math.Max(1, (int)Math.Ceiling(_timeout.TotalSeconds));
            foreach (var pending in batch)
            {
                var command = new NpgsqlBatchCommand(pending.Sql);
                pending.Bind(command.Parameters);
                npgsql.BatchCommands.Add(command);
            }

            await using (var reader = await npgsql.ExecuteReaderAsync(timeout.Token))
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    if (i > 0 && !await reader.NextResultAsync(timeout.Token))
                    {
                        throw new NpgsqlException($"a batch of {batch.Count} statements answered {i} results");
                    }

                    await batch[i].ReadAsync(reader, timeout.Token);
                }
            }

            // The reader is closed past the batch's end: its transaction committed, so the answers read are true.
            Interlocked.Increment(ref _commits);
            Interlocked.Add(ref _groupedStatements, batch.Count);
            foreach (var pending in batch)
            {
                pending.Succeed();
            }

            return null;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            return new IdempotencyStoreUnavailableException(Reason(ex), ex);
        }
        catch (Exception ex)
        {
            return ex; // a committer never stops: its callers are told instead
        }
    }

    private string Reason(Exception ex) =>
        ex is OperationCanceledException or TimeoutException || ex.InnerException is TimeoutException
            ? $"no answer within {_timeout.TotalSeconds:0.#} s"
            : ex is PostgresException postgres ? $"{postgres.SqlState}: {postgres.MessageText}" : ex.Message;

    private void AddKey(NpgsqlParameterCollection parameters, IdempotencyKeyRef key)
    {
        parameters.AddWithValue("service", _serviceId);
        parameters.AddWithValue("principal", key.Principal);
        parameters.AddWithValue("key", key.Key);
    }

    private static IdempotencyRecord ReadRecord(DbDataReader reader, int first)
    {
        var fingerprint = new RequestFingerprint(reader.GetString(first), reader.GetString(first + 1), reader.GetFieldValue<byte[]>(first + 2));
        var response = reader.IsDBNull(first + 5)
            ? null
            : new StoredResponse(
                reader.GetInt32(first + 5),
                reader.IsDBNull(first + 6) ? null : reader.GetString(first + 6),
                reader.IsDBNull(first + 7) ? null : reader.GetString(first + 7),
                reader.IsDBNull(first + 8) ? [] : reader.GetFieldValue<byte[]>(first + 8));
        return new IdempotencyRecord(fingerprint, reader.GetGuid(first + 3), reader.GetFieldValue<DateTimeOffset>(first + 4), response);
    }

    private Task<T> QueryAsync<T>(string sql, Action<NpgsqlCommand> bind, Func<DbDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken) =>
        RunAsync(sql, bind, async (command, token) =>
        {
            await using var reader = await command.ExecuteReaderAsync(token);
            return await read(reader, token);
        }, cancellationToken);

    /// <summary>A rare statement (a load, a re-arm, a prune) on its own.</summary>
    private async Task<T> RunAsync<T>(string sql, Action<NpgsqlCommand> bind, Func<NpgsqlCommand, CancellationToken, Task<T>> execute, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            await using var command = _dataSource.CreateCommand(sql);
            command.CommandTimeout = Math.Max(1, (int)Math.Ceiling(_timeout.TotalSeconds));
            bind(command);
            return await execute(command, timeout.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new IdempotencyStoreUnavailableException(Reason(ex), ex);
        }
    }

    /// <summary>A hot statement waiting for its batch: how to bind it, how to read its rows, and its caller's answer.</summary>
    private abstract class Pending(IdempotencyKeyRef key, string sql, Action<NpgsqlParameterCollection> bind, long sequence)
    {
        public IdempotencyKeyRef Key { get; } = key;

        public string Sql { get; } = sql;

        public long Sequence { get; } = sequence;

        public void Bind(NpgsqlParameterCollection parameters) => bind(parameters);

        /// <summary>Reads this statement's rows; kept until the transaction committed.</summary>
        public abstract Task ReadAsync(NpgsqlDataReader reader, CancellationToken cancellationToken);

        public abstract void Succeed();

        public abstract void Fail(Exception failure);
    }

    private sealed class Pending<T>(
        IdempotencyKeyRef key, string sql, Action<NpgsqlParameterCollection> bind, Func<NpgsqlDataReader, CancellationToken, Task<T>> read, long sequence)
        : Pending(key, sql, bind, sequence)
    {
        private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _read;

        public Task<T> Result => _result.Task;

        public override async Task ReadAsync(NpgsqlDataReader reader, CancellationToken cancellationToken) =>
            _read = await read(reader, cancellationToken);

        public override void Succeed() => _result.TrySetResult(_read!);

        public override void Fail(Exception failure) => _result.TrySetException(failure);
    }
}
