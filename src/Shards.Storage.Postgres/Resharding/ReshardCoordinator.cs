using System.Diagnostics;
using Npgsql;
using Shards.Hashing;
using Shards.Postgres;
using Shards.Storage.Postgres.Sharding;

namespace Shards.Storage.Postgres.Resharding;

/// <summary>
/// Online resharding of one service (docs/sharding.md, "Online resharding"): publishes a moving map (the old ring plus
/// the target ring) with a progress record, waits out the stale-map fence so that every silo routes moving keys by it
/// or refuses, moves the rows whose owner changes in locked batches (copy with version, then delete), publishes the
/// target map, waits out the fence again and records the end. Interrupted at any point, the same request continues
/// where the stored map and progress say it stopped. Bad input and unreachable databases are refused before anything
/// changes.
/// </summary>
/// <param name="dataSources">
/// The data sources of the command run (or silo) that reshards: one per database, whichever step of the resharding
/// reaches it.
/// </param>
/// <param name="main">The main database (shard map, progress).</param>
/// <param name="storage">
/// The shard connection strings configured for this process (others are reached with the main connection's
/// credentials), the silos' map refresh period and lease (the fence), and the batch size.
/// </param>
/// <param name="grainTypes">
/// The grain type ([GrainType]) that owns each persistent state name: a stored row names its state and key but not its
/// grain type, and the ring hashes the grain id (<c>type/key</c>). A row of a state missing here stops the resharding
/// before anything moves.
/// </param>
public sealed class ReshardCoordinator(
    PostgresDataSources dataSources, string main, string serviceId, ShardsStorageOptions storage, IReadOnlyDictionary<string, string> grainTypes, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    // The stores on the run's data sources (small objects: the pools are the registry's).
    private ShardMapStore Maps => new(dataSources, main);

    private ReshardingStore Progress => new(dataSources.For(main));

    private ShardRows Rows => new(dataSources);

    private ShardWriteFence Fences => new(dataSources);

    /// <summary>
    /// How long after publishing a map every silo routes with it or refuses writes: lease plus one refresh period, plus
    /// the storage command timeout, after which writes routed by the previous map have normally ended. Correctness does
    /// not rest on it: the shards themselves then refuse the stragglers (<see cref="ShardWriteFence"/>); the wait keeps
    /// those refusals rare, and lets silos route new grains to their new shards before rows move.
    /// </summary>
    public TimeSpan Fence => storage.MapLease + storage.MapRefreshPeriod + storage.CommandTimeout;

    /// <summary>
    /// Asked before each fence wait: whether a silo may run that routes with an older map (the CLI: whether any silo is
    /// not dead in the membership table). When it answers false nothing can hold a stale map, and the wait is skipped;
    /// a silo that starts later reads the current map first. Null: always wait.
    /// </summary>
    public Func<CancellationToken, Task<bool>>? SilosMayRoute { get; init; }

    public async Task<ReshardResult> RunAsync(ReshardRequest request, IProgress<ReshardProgress>? progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var map = await Guard(() => Maps.ReadCurrentAsync(serviceId, cancellationToken), "the main database", main)
            ?? throw new ReshardException($"Service '{serviceId}' has no shard map yet: start the cluster first (its first silo creates the map). Nothing changed.");
        var record = await Guard(() => Progress.ReadInProgressAsync(serviceId, cancellationToken), "the main database", main);

        bool resumed;
        var skipped = 0;
        if (record is not null)
        {
            if (record.Operation != request.Operation || record.Shard != request.Name)
            {
                var verb = record.Operation == ReshardOperation.Add ? "add" : "remove";
                throw new ReshardException(
                    $"Service '{serviceId}' is in the middle of another resharding ({verb} {record.Shard}, started {record.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC, " +
                    $"{record.KeysMoved} keys moved): run 'shards reshard {verb} {record.Shard}' to finish it first. Nothing changed.");
            }

            resumed = true;
        }
        else
        {
            if (map.Document.IsMoving)
            {
                throw new ReshardException($"Shard map {map} is a moving map without a resharding record: the map was edited by hand. Nothing changed.");
            }

            var moving = await PlanAsync(request, map, cancellationToken);
            if (!await Guard(() => Progress.TryBeginAsync(serviceId, request, map.Version, map.Version + 1, moving, cancellationToken), "the main database", main))
            {
                throw new ReshardException($"The shard map of service '{serviceId}' changed while the resharding was being planned (version {map.Version + 1} exists). Nothing changed; run the command again.");
            }

            record = new ReshardingRecord(map.Version + 1, request.Operation, request.Name, map.Version, null, 0, DateTimeOffset.UtcNow);
            resumed = false;
            skipped += await WaitFenceAsync(Fence, $"published moving map version {record.MovingVersion}", 0, progress, cancellationToken);
        }

        map = await Maps.ReadCurrentAsync(serviceId, cancellationToken) ?? throw new InvalidOperationException("The shard map vanished.");
        long scanned = 0;
        var moveTime = TimeSpan.Zero;
        var keysMoved = record.KeysMoved;
        if (map.Version == record.MovingVersion)
        {
            if (resumed)
            {
                // The fence of an earlier run may not have passed; silos that missed the map must be refusing before rows move.
                var age = DateTimeOffset.UtcNow - map.CreatedAt;
                if (age < Fence)
                {
                    skipped += await WaitFenceAsync(Fence - age, $"resumed on moving map version {record.MovingVersion}", record.KeysMoved, progress, cancellationToken);
                }
            }

            await CloseOldShardsAsync(request, map, progress, cancellationToken);
            var moveWatch = Stopwatch.StartNew();
            (keysMoved, scanned) = await MoveAllAsync(request, record, map, progress, moveWatch, cancellationToken);
            moveTime = moveWatch.Elapsed;
            var target = map.Document with { Algorithm = ShardRouter.Algorithm, Shards = map.Document.Target!, Target = null };
            if (!await Progress.TryPublishTargetAsync(serviceId, record.MovingVersion, record.MovingVersion + 1, target, cancellationToken))
            {
                throw new ReshardException($"Shard map version {record.MovingVersion + 1} of service '{serviceId}' appeared while the resharding ran: someone else changed the map.");
            }

            skipped += await WaitFenceAsync(Fence, $"published map version {record.MovingVersion + 1}", keysMoved, progress, cancellationToken);
        }
        else if (map.Version == record.MovingVersion + 1 && !map.Document.IsMoving)
        {
            var age = DateTimeOffset.UtcNow - map.CreatedAt;
            if (age < Fence)
            {
                skipped += await WaitFenceAsync(Fence - age, $"resumed on map version {map.Version}", keysMoved, progress, cancellationToken);
            }
        }
        else
        {
            throw new ReshardException($"Shard map {map} is neither the moving map nor the target map of the resharding in progress ({request}): it was changed by hand.");
        }

        if (request.Operation == ReshardOperation.Remove)
        {
            var removed = Connections(map.Document, request).FirstOrDefault(c => c.Name == request.Name);
            if (removed is not null && (await Rows.ScanAsync(removed, serviceId, grainTypes, cancellationToken)).Count is var left and > 0)
            {
                throw new ReshardException($"Shard {removed} still holds {left} row(s) of service '{serviceId}' after the resharding: run the command again.");
            }
        }

        await Progress.FinishAsync(serviceId, record.MovingVersion, cancellationToken);
        var final = await Maps.ReadCurrentAsync(serviceId, cancellationToken);
        return new ReshardResult(
            request, record.FromVersion, final?.Version ?? record.MovingVersion + 1, keysMoved, keysMoved - record.KeysMoved, scanned, resumed, moveTime, started.Elapsed,
            skipped);
    }

    /// <summary>
    /// Waits <paramref name="wait"/> after <paramref name="published"/> so that every silo routes by the new map, unless
    /// <see cref="SilosMayRoute"/> says no silo runs; 1 when it skipped the wait, else 0.
    /// </summary>
    private async Task<int> WaitFenceAsync(TimeSpan wait, string published, long keysMoved, IProgress<ReshardProgress>? progress, CancellationToken cancellationToken)
    {
        if (SilosMayRoute is { } silosMayRoute && !await silosMayRoute(cancellationToken))
        {
            progress?.Report(new ReshardProgress($"{published}; no silo is live in the membership table, so none can hold an older map: skipping the {wait.TotalSeconds:0.#} s wait", keysMoved, keysMoved, 0));
            return 1;
        }

        progress?.Report(new ReshardProgress($"{published}; waiting {wait.TotalSeconds:0.#} s until every silo routes by it", keysMoved, keysMoved, 0));
        await Task.Delay(wait, _time, cancellationToken);
        return 0;
    }

    /// <summary>Checks the request against the map and the databases, prepares the new database, and returns the moving map.</summary>
    private async Task<ShardMapDocument> PlanAsync(ReshardRequest request, ShardMap map, CancellationToken cancellationToken)
    {
        var document = map.Document;
        List<ShardLocation> target;
        if (request.Operation == ReshardOperation.Add)
        {
            if (!ShardSet.IsValidName(request.Name))
            {
                throw new ReshardException($"'{request.Name}' is not a shard name: use 1-32 of a-z, 0-9, '_' and '-', starting with a letter (e.g. s2). Nothing changed.");
            }

            if (document.Find(request.Name) is { } existing)
            {
                throw new ReshardException($"Shard '{request.Name}' is already in the shard map of service '{serviceId}' (version {map.Version}, {existing.Target}). Nothing changed.");
            }

            var added = new ShardConnection(request.Name, request.ConnectionString
                ?? throw new ReshardException($"Adding shard '{request.Name}' needs its connection string. Nothing changed."));
            var location = added.Location();
            if (document.Shards.FirstOrDefault(s => SameDatabase(s, location)) is { } same)
            {
                throw new ReshardException($"The database {location.Target} is already shard '{same.Name}' of service '{serviceId}'. Nothing changed.");
            }

            await CheckReachableAsync(added, cancellationToken);
            target = [.. document.Shards, location];
        }
        else
        {
            if (document.Find(request.Name) is null)
            {
                throw new ReshardException(
                    $"Unknown shard '{request.Name}': the shard map of service '{serviceId}' (version {map.Version}) has {string.Join(", ", document.Names)}. Nothing changed.");
            }

            if (document.Shards.Count == 1)
            {
                throw new ReshardException($"Cannot remove '{request.Name}': it is the last shard of service '{serviceId}', its state would have nowhere to go. Nothing changed.");
            }

            target = document.Shards.Where(s => s.Name != request.Name).ToList();
        }

        var moving = document with { Algorithm = ShardMapDocument.MovingAlgorithm, Target = target };
        foreach (var shard in Connections(moving, request).Where(c => c.Name != request.Name || request.Operation == ReshardOperation.Remove))
        {
            await CheckReachableAsync(shard, cancellationToken);
            await Guard(() => Rows.ScanAsync(shard, serviceId, grainTypes, cancellationToken), shard.ToString(), shard.ConnectionString);
        }

        if (request.Operation == ReshardOperation.Add)
        {
            var added = Connections(moving, request).Single(c => c.Name == request.Name);
            await Guard(() => new SchemaMigrator(dataSources.For(added.ConnectionString)).ApplyAsync(cancellationToken), added.ToString(), added.ConnectionString);
            var identity = await Maps.ClaimIdentityAsync(added.ConnectionString, serviceId, request.Name, cancellationToken);
            if (identity != request.Name)
            {
                throw new ReshardException($"The database {added.Target} is shard '{identity}' of service '{serviceId}', not '{request.Name}'. Nothing changed.");
            }

            var rows = await Rows.ScanAsync(added, serviceId, grainTypes, cancellationToken);
            if (rows.Count > 0)
            {
                throw new ReshardException($"The database {added.Target} already holds {rows.Count} row(s) of service '{serviceId}'; a new shard must start empty. Nothing changed.");
            }
        }

        return moving;
    }

    /// <summary>
    /// Closes every shard of the old ring to reads and writes routed with a map older than the moving one, in each shard
    /// database itself (<see cref="ShardWriteFence"/>), before the first scan. A write that the old map routed and that is
    /// still on its way after the fence's wait (queued, paused, on a slow connection) is then refused by the shard, and its
    /// caller retries it under the current map; one that passed the check before is committed before the close returns, so
    /// the scan sees its row. This, not the wait, is what keeps a write routed by the old map from landing behind the scan.
    /// It is also the moment silos on the moving map start creating new keys in their new shards: until it, they create
    /// them in the old shard, where a silo still on the old map reads (<see cref="Storage.ShardedGrainStorage"/>). The
    /// close therefore comes after the moving map is published, never before: closing first would make every silo refuse
    /// every call to these shards until the map is published, and forever if this process died in between.
    /// </summary>
    private async Task CloseOldShardsAsync(ReshardRequest request, ShardMap map, IProgress<ReshardProgress>? progress, CancellationToken cancellationToken)
    {
        var connections = Connections(map.Document, request).ToDictionary(c => c.Name, StringComparer.Ordinal);
        foreach (var shard in map.Document.Shards)
        {
            var connection = connections[shard.Name];
            await Guard(async () =>
            {
                // The fence's column and function come with the schema; a silo applies it at start, and so does this.
                await new SchemaMigrator(dataSources.For(connection.ConnectionString)).ApplyAsync(cancellationToken);
                if (!await Fences.CloseAsync(connection.ConnectionString, serviceId, shard.Name, map.Version, cancellationToken))
                {
                    var identity = await Maps.ClaimIdentityAsync(connection.ConnectionString, serviceId, shard.Name, cancellationToken);
                    if (identity != shard.Name || !await Fences.CloseAsync(connection.ConnectionString, serviceId, shard.Name, map.Version, cancellationToken))
                    {
                        throw new ReshardException(
                            $"The database {connection.Target} of shard '{shard.Name}' is shard '{identity}' of service '{serviceId}': fix the shard's connection string. " +
                            "The moving map is published; run the same command again to continue.");
                    }
                }
            }, connection.ToString(), connection.ConnectionString);
        }

        progress?.Report(new ReshardProgress(
            $"closed {string.Join(", ", map.Document.Names)} to writes routed with map versions before {map.Version}", 0, 0, 0));
    }

    /// <summary>
    /// Moves every row whose owner differs on the target ring, rescanning until a pass finds none. Returns the keys moved
    /// (all runs) and the service's rows in every shard at the first scan.
    /// </summary>
    private async Task<(long KeysMoved, long Scanned)> MoveAllAsync(
        ReshardRequest request, ReshardingRecord record, ShardMap map, IProgress<ReshardProgress>? progress, Stopwatch watch, CancellationToken cancellationToken)
    {
        var connections = Connections(map.Document, request).ToDictionary(c => c.Name, StringComparer.Ordinal);
        var targetRouter = map.Document.CreateTargetRouter()!;
        var moved = record.KeysMoved;
        long movedThisRun = 0;
        long scanned = -1;
        var batchSize = Math.Max(1, storage.ReshardBatchSize);
        while (true)
        {
            var pending = new List<(ShardConnection From, ShardConnection To, List<ShardRowKey> Keys)>();
            long rows = 0;
            foreach (var source in map.Document.Shards)
            {
                var from = connections[source.Name];
                var keys = await Guard(() => Rows.ScanAsync(from, serviceId, grainTypes, cancellationToken), from.ToString(), from.ConnectionString);
                rows += keys.Count;
                pending.AddRange(keys
                    .Select(k => (Key: k, Owner: targetRouter.ShardFor(k.GrainId)))
                    .Where(x => x.Owner != source.Name)
                    .GroupBy(x => x.Owner)
                    .Select(g => (from, connections[g.Key], g.Select(x => x.Key).ToList())));
            }

            if (scanned < 0)
            {
                // Rows already in a shard only the target ring has (moved by an interrupted run, or new) count too.
                foreach (var added in map.Document.AllShards.Where(s => map.Document.Find(s.Name) is null))
                {
                    var to = connections[added.Name];
                    rows += (await Guard(() => Rows.ScanAsync(to, serviceId, grainTypes, cancellationToken), to.ToString(), to.ConnectionString)).Count;
                }

                scanned = rows;
            }
            var remaining = pending.Sum(p => (long)p.Keys.Count);
            if (remaining == 0)
            {
                return (moved, scanned);
            }

            var total = moved + remaining;
            foreach (var (from, to, keys) in pending)
            {
                foreach (var batch in keys.Chunk(batchSize))
                {
                    var count = await Guard(() => Rows.MoveAsync(from, to, serviceId, batch, cancellationToken), $"{from} or {to}", from.ConnectionString);
                    await Progress.RecordMovedAsync(serviceId, record.MovingVersion, count, cancellationToken);
                    moved += count;
                    movedThisRun += count;
                    var seconds = watch.Elapsed.TotalSeconds;
                    progress?.Report(new ReshardProgress("moving", moved, Math.Max(total, moved), seconds > 0 ? movedThisRun / seconds : 0));
                }
            }
        }
    }

    /// <summary>Connections to every shard of <paramref name="document"/>: the request's own for its shard, else configured or derived.</summary>
    private IEnumerable<ShardConnection> Connections(ShardMapDocument document, ReshardRequest request) =>
        ShardInspection.ConnectionsFor(document, main, storage).Select(c =>
            c.Name == request.Name && request.ConnectionString is { } own ? new ShardConnection(c.Name, own) : c);

    private static bool SameDatabase(ShardLocation a, ShardLocation b) =>
        a.Port == b.Port && a.Database == b.Database &&
        (a.Host == b.Host || (IsLoopback(a.Host) && IsLoopback(b.Host)));

    private static bool IsLoopback(string host) => host is "localhost" or "127.0.0.1" or "::1";

    /// <summary>
    /// Opens one connection to <paramref name="shard"/>, with 5 s to connect and no pooling: a probe, so an unreachable
    /// database is reported fast and no pooled connection is kept to a database that may never join (the registry gives
    /// such a connection string an unpooled data source of its own).
    /// </summary>
    private async Task CheckReachableAsync(ShardConnection shard, CancellationToken cancellationToken)
    {
        try
        {
            var probe = new NpgsqlConnectionStringBuilder(shard.ConnectionString) { Timeout = 5, Pooling = false }.ConnectionString;
            await using var connection = await dataSources.For(probe).OpenConnectionAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or ArgumentException && !cancellationToken.IsCancellationRequested)
        {
            throw new ReshardException($"Cannot reach shard {shard}: {ex.Message}. Nothing changed.", dependencyDown: ex is not ArgumentException);
        }
    }

    /// <summary>Turns a database failure into a <see cref="ReshardException"/> that names the database (never the connection string).</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> action, string what, string connectionString)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw new ReshardException(
                $"{what} ({PostgresAvailability.Describe(connectionString)}) failed: {ex.Message}. " +
                "Run the same command again once it answers: the resharding continues where it stopped.", dependencyDown: true);
        }
    }

    private static async Task Guard(Func<Task> action, string what, string connectionString) =>
        await Guard(async () =>
        {
            await action();
            return true;
        }, what, connectionString);
}
