using System.Data.Common;
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
/// <c>shards_http_idempotency</c> in the main database (migration 0011): one row per (service, principal, key). Every
/// call is one statement on a pooled connection of the process's <see cref="NpgsqlDataSource"/>, bounded by
/// <see cref="ApiIdempotencyOptions.DatabaseTimeout"/>; any failure is an <see cref="IdempotencyStoreUnavailableException"/>.
/// </summary>
internal sealed class IdempotencyStore(NpgsqlDataSource dataSource, IOptions<ShardsApiOptions> options, IOptions<ClusterOptions> cluster)
{
    private const string Columns = "method, route, body_sha256, request_id, deadline, status, content_type, location, body";
    private const string WhereKey = "serviceid = @service AND principal = @principal AND idempotency_key = @key";

    private readonly string _serviceId = cluster.Value.ServiceId;
    private readonly TimeSpan _timeout = options.Value.Idempotency.DatabaseTimeout;

    /// <summary>
    /// Creates the record with <paramref name="requestId"/> and <paramref name="deadline"/>, or returns the existing
    /// one (Created false) untouched.
    /// </summary>
    public async Task<(IdempotencyRecord Record, bool Created)> BeginAsync(
        IdempotencyKeyRef key, RequestFingerprint fingerprint, Guid requestId, DateTimeOffset deadline, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        // One statement: insert, or read the row that is there. A row committed by a concurrent request after this
        // statement's snapshot was taken is neither inserted nor seen; the next statement sees it.
        for (var attempt = 1; ; attempt++)
        {
            var found = await QueryAsync(
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
                """,
                command =>
                {
                    AddKey(command, key);
                    command.Parameters.AddWithValue("method", fingerprint.Method);
                    command.Parameters.AddWithValue("route", fingerprint.Route);
                    command.Parameters.AddWithValue("body_sha256", fingerprint.BodySha256);
                    command.Parameters.AddWithValue("request", requestId);
                    command.Parameters.AddWithValue("deadline", deadline.ToUniversalTime());
                    command.Parameters.AddWithValue("expires", expiresAt.ToUniversalTime());
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
            command => AddKey(command, key),
            async (reader, token) => await reader.ReadAsync(token) ? ReadRecord(reader, 0) : null,
            cancellationToken);

    /// <summary>
    /// Stores <paramref name="response"/> as the final answer of the record's request <paramref name="requestId"/>.
    /// False when the record has a final answer already (another copy stored it first), unless that answer was a 4xx
    /// and this one a 2xx: a copy that applied the request tells the truth about it, so it replaces the rejection.
    /// False too when the record now stands for another request ID.
    /// </summary>
    public async Task<bool> CompleteAsync(IdempotencyKeyRef key, Guid requestId, StoredResponse response, CancellationToken cancellationToken) =>
        await RunAsync(
            $"""
            UPDATE shards_http_idempotency
               SET status = @status, content_type = @content_type, location = @location, body = @response_body, completed_at = now()
             WHERE {WhereKey} AND request_id = @request
               AND (status IS NULL OR (status >= 400 AND @status < 300))
            """,
            command =>
            {
                AddKey(command, key);
                command.Parameters.AddWithValue("request", requestId);
                command.Parameters.AddWithValue("status", response.Status);
                command.Parameters.Add(new NpgsqlParameter("content_type", NpgsqlDbType.Text) { Value = (object?)response.ContentType ?? DBNull.Value });
                command.Parameters.Add(new NpgsqlParameter("location", NpgsqlDbType.Text) { Value = (object?)response.Location ?? DBNull.Value });
                command.Parameters.AddWithValue("response_body", response.Body);
            },
            async (command, token) => await command.ExecuteNonQueryAsync(token),
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
                AddKey(command, key);
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

    private void AddKey(NpgsqlCommand command, IdempotencyKeyRef key)
    {
        command.Parameters.AddWithValue("service", _serviceId);
        command.Parameters.AddWithValue("principal", key.Principal);
        command.Parameters.AddWithValue("key", key.Key);
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

    private async Task<T> RunAsync<T>(string sql, Action<NpgsqlCommand> bind, Func<NpgsqlCommand, CancellationToken, Task<T>> execute, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            await using var command = dataSource.CreateCommand(sql);
            command.CommandTimeout = Math.Max(1, (int)Math.Ceiling(_timeout.TotalSeconds));
            bind(command);
            return await execute(command, timeout.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var reason = ex is OperationCanceledException or TimeoutException || ex.InnerException is TimeoutException
                ? $"no answer within {_timeout.TotalSeconds:0.#} s"
                : ex is PostgresException postgres ? $"{postgres.SqlState}: {postgres.MessageText}" : ex.Message;
            throw new IdempotencyStoreUnavailableException(reason, ex);
        }
    }
}
