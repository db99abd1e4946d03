using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Shards.Api.Idempotency;
using Shards.Api.Options;
using Shards.Postgres;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Api;

/// <summary>
/// <see cref="IdempotencyStore"/>'s group commit: records of requests queued behind a running commit share one
/// transaction, with the answers of statements made one at a time (the same key twice in one batch: one creates, the
/// other finds it); a statement PostgreSQL refuses fails alone; without group commit, one statement each.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class IdempotencyGroupCommitTests : IAsyncLifetime
{
    private static readonly RequestFingerprint s_fingerprint = new("POST", "/api/carts/cart-1/items", new byte[32]);

    private string _connectionString = null!;

    public async Task InitializeAsync() => _connectionString = await TestPostgres.CreateDatabaseAsync("idemgroup");

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Requests_queued_behind_a_commit_share_the_next_one_and_each_key_is_created_once()
    {
        await using var services = Services(groupCommit: true, committers: 1);
        var store = services.GetRequiredService<IdempotencyStore>();
        var keys = Enumerable.Range(0, 10).Select(i => new IdempotencyKeyRef("p-group", $"group-{i}-{Guid.NewGuid():N}")).ToList();

        Task<(IdempotencyRecord Record, bool Created)>[] begins;
        Task<(IdempotencyRecord Record, bool Created)> first;
        await using (await LockRecordsAsync())
        {
            first = Begin(store, new IdempotencyKeyRef("p-group", $"first-{Guid.NewGuid():N}"));
            await WaitForLockWaiterAsync(); // the only committer is stuck in the first commit
            begins = [.. keys.SelectMany(key => new[] { Begin(store, key), Begin(store, key) })];
        }

        await first;
        var answers = await Task.WhenAll(begins);

        Assert.Equal(2, store.Commits); // the first alone, then the 20 queued behind it together
        Assert.Equal(21, store.GroupedStatements);
        for (var i = 0; i < keys.Count; i++)
        {
            var (a, b) = (answers[2 * i], answers[(2 * i) + 1]);
            Assert.True(a.Created ^ b.Created);
            Assert.Equal(a.Record.RequestId, b.Record.RequestId);
        }

        var completed = await Task.WhenAll(keys.Select((key, i) =>
            store.CompleteAsync(key, answers[2 * i].Record.RequestId, new StoredResponse(200, "application/json", null, [1, 2]), CancellationToken.None)));
        Assert.All(completed, Assert.True);
        Assert.False(await store.CompleteAsync(keys[0], Guid.NewGuid(), new StoredResponse(200, null, null, []), CancellationToken.None));
        Assert.Equal([1, 2], (await store.LoadAsync(keys[0], CancellationToken.None))!.Response!.Body);
    }

    [Fact]
    public async Task A_statement_postgresql_refuses_fails_alone_and_the_rest_of_its_batch_is_stored()
    {
        await using var services = Services(groupCommit: true, committers: 1);
        var store = services.GetRequiredService<IdempotencyStore>();
        var good = Enumerable.Range(0, 5).Select(i => new IdempotencyKeyRef("p-bad", $"good-{i}-{Guid.NewGuid():N}")).ToList();

        Task<(IdempotencyRecord Record, bool Created)>[] begins;
        Task<(IdempotencyRecord Record, bool Created)> bad;
        await using (await LockRecordsAsync())
        {
            var first = Begin(store, new IdempotencyKeyRef("p-bad", $"first-{Guid.NewGuid():N}"));
            await WaitForLockWaiterAsync();
            // Too long for the primary key's index: PostgreSQL refuses it, and with it the whole transaction.
            bad = Begin(store, new IdempotencyKeyRef("p-bad", Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8000))));
            begins = [.. good.Select(key => Begin(store, key))];
            _ = first;
        }

        var refused = await Assert.ThrowsAsync<IdempotencyStoreUnavailableException>(() => bad);
        Assert.IsType<PostgresException>(refused.InnerException);
        Assert.All(await Task.WhenAll(begins), answer => Assert.True(answer.Created));
        foreach (var key in good)
        {
            Assert.NotNull(await store.LoadAsync(key, CancellationToken.None));
        }
    }

    [Fact]
    public async Task Stopping_commits_what_is_queued_before_the_committers_end()
    {
        var services = Services(groupCommit: true, committers: 1);
        var store = services.GetRequiredService<IdempotencyStore>();
        var key = new IdempotencyKeyRef("p-stop", $"queued-{Guid.NewGuid():N}");

        Task<(IdempotencyRecord Record, bool Created)> first, queued;
        Task disposed;
        await using (await LockRecordsAsync())
        {
            first = Begin(store, new IdempotencyKeyRef("p-stop", $"first-{Guid.NewGuid():N}"));
            await WaitForLockWaiterAsync();
            queued = Begin(store, key);
            disposed = services.DisposeAsync().AsTask();
            Assert.False(disposed.IsCompleted);
        }

        await disposed;
        Assert.True((await first).Created);
        Assert.True((await queued).Created);
        await Assert.ThrowsAsync<IdempotencyStoreUnavailableException>(() => Begin(store, key));
    }

    [Fact]
    public async Task Without_group_commit_each_statement_is_its_own_transaction()
    {
        await using var services = Services(groupCommit: false, committers: 4);
        var store = services.GetRequiredService<IdempotencyStore>();
        var key = new IdempotencyKeyRef("p-alone", $"alone-{Guid.NewGuid():N}");

        var created = await Begin(store, key);
        var again = await Begin(store, key);
        var stored = await store.CompleteAsync(key, created.Record.RequestId, new StoredResponse(201, "application/json", "/api/x", [7]), CancellationToken.None);

        Assert.True(created.Created);
        Assert.False(again.Created);
        Assert.Equal(created.Record.RequestId, again.Record.RequestId);
        Assert.True(stored);
        Assert.Equal(3, store.Commits);
        Assert.Equal(3, store.GroupedStatements);
        Assert.Equal("/api/x", (await store.LoadAsync(key, CancellationToken.None))!.Response!.Location);
    }

    private static Task<(IdempotencyRecord Record, bool Created)> Begin(IdempotencyStore store, IdempotencyKeyRef key)
    {
        var now = DateTimeOffset.UtcNow;
        return store.BeginAsync(key, s_fingerprint, Guid.NewGuid(), now + TimeSpan.FromMinutes(5), now + TimeSpan.FromHours(1), CancellationToken.None);
    }

    private ServiceProvider Services(bool groupCommit, int committers)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        var api = new ShardsApiOptions();
        api.Idempotency.GroupCommit = groupCommit;
        api.Idempotency.Committers = committers;
        api.Idempotency.DatabaseTimeout = TimeSpan.FromSeconds(30);
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(api));
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new ClusterOptions { ClusterId = "group", ServiceId = "group" }));
        services.AddShardsDataSources(_connectionString);
        services.AddSingleton<IdempotencyStore>();
        return services.BuildServiceProvider();
    }

    /// <summary>Holds an exclusive lock on the records table (every statement on it waits) until disposed.</summary>
    private async Task<IAsyncDisposable> LockRecordsAsync()
    {
        var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("LOCK TABLE shards_http_idempotency IN ACCESS EXCLUSIVE MODE", connection, transaction))
        {
            await command.ExecuteNonQueryAsync();
        }

        return new TableLock(connection, transaction);
    }

    /// <summary>Returns once a statement of this database waits for the table lock (the committer's batch is in flight).</summary>
    private async Task WaitForLockWaiterAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", connection);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while ((long)(await command.ExecuteScalarAsync(timeout.Token))! == 0)
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    private sealed class TableLock(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.RollbackAsync();
            await connection.DisposeAsync();
        }
    }
}
