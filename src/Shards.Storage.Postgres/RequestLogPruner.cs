using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Runtime;
using Shards.Postgres;
using Shards.Storage;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Storage.Postgres;

/// <summary>
/// Deletes request-log rows past their retention (<see cref="RequestLogOptions.Retention"/> after they expired) from
/// every shard database the silo writes to, every <see cref="RequestLogOptions.PrunePeriod"/>, in bounded batches
/// (<c>shards_request_log_prune</c>: a short transaction each; a silo that finds another pruning the same database
/// skips its turn). A database that does not answer is tried again next period; pruning never holds a grain. It prunes
/// on each database's data source (<see cref="PostgresDataSources"/>), one connection at a time.
/// </summary>
public sealed partial class RequestLogPruner(
    ShardSet shards, PostgresDataSources dataSources, IOptions<RequestLogOptions> options, TimeProvider time, ILogger<RequestLogPruner> logger)
    : ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<NpgsqlDataSource> _databases = [];
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RequestLogPruner), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    /// <summary>Prunes every shard database once; returns the rows deleted.</summary>
    public async Task<long> PruneOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        long deleted = 0;
        foreach (var database in Databases())
        {
            try
            {
                int batch;
                do
                {
                    await using var command = database.CreateCommand("SELECT shards_request_log_prune(@retention, @limit)");
                    command.Parameters.AddWithValue("retention", settings.Retention);
                    command.Parameters.AddWithValue("limit", settings.PruneBatchSize);
                    batch = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
                    deleted += batch;
                }
                while (batch == settings.PruneBatchSize && !cancellationToken.IsCancellationRequested);
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
            {
                LogPruneFailed(logger, exception, PostgresTarget(database));
            }
        }

        return deleted;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _stop.Dispose();
    }

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Factory.StartNew(LoopAsync, CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default).Unwrap();
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        await _loop;
        _databases.Clear();
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(options.Value.PrunePeriod, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                var deleted = await PruneOnceAsync(_stop.Token);
                if (deleted > 0)
                {
                    LogPruned(logger, deleted);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // the silo is stopping
        }
    }

    /// <summary>Each shard database once (the log is per database, shared by every storage name): its data source.</summary>
    private List<NpgsqlDataSource> Databases()
    {
        if (_databases.Count == 0)
        {
            _databases.AddRange(shards.Shards.Select(s => dataSources.For(s.ConnectionString)).Distinct());
        }

        return _databases;
    }

    private static string PostgresTarget(NpgsqlDataSource database) =>
        new NpgsqlConnectionStringBuilder(database.ConnectionString) is var b ? $"{b.Host}:{b.Port}/{b.Database}" : "?";

    [LoggerMessage(EventId = 1220, Level = LogLevel.Debug, Message = "Request log: pruned {Count} rows past their retention")]
    private static partial void LogPruned(ILogger logger, long count);

    [LoggerMessage(EventId = 1221, Level = LogLevel.Warning, Message = "Request log: could not prune {Target}; trying again next period")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception, string target);
}
