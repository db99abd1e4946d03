using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Runtime;
using Shards.Contracts.Common;
using Shards.Hashing;
using Shards.Postgres;

namespace Shards.Storage.Postgres.Sharding;

/// <summary>
/// A silo's view of its service's shard map: which version it routes with, and whether that version is still
/// the current one. At start it checks each configured shard database's identity, registers the configured shards
/// as version 1 when the service has no map yet, and refuses to start when the current map names a shard it cannot
/// reach. Then it re-reads the current version every <see cref="ShardsStorageOptions.MapRefreshPeriod"/>:
/// a newer version it can route with is adopted at once; one it cannot (a shard it has no connection string for)
/// makes it refuse reads and writes; and when it could not confirm its version for a whole
/// <see cref="ShardsStorageOptions.MapLease"/> (the main database does not answer) it refuses reads, writes and clears.
/// A silo with a stale map therefore fails a call instead of writing to the wrong shard or answering from a shard the
/// state has left (docs/sharding.md). A shard that refuses an operation routed with an older map than it accepts
/// (a resharding closed it) makes the silo read the current map at once (<see cref="RefreshAfterRefusalAsync"/>).
/// </summary>
public sealed partial class ShardMapMonitor : IDisposable
{
    private readonly string _mainConnectionString;
    private readonly ShardMapStore _store;
    private readonly ShardsStorageOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _startLock = new();
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _started;
    private Task? _loop;
    private int _disposed;
    private readonly ConcurrentDictionary<string, ShardConnection> _reached = new(StringComparer.Ordinal);
    private volatile View? _view;

    /// <param name="dataSources">The silo's data sources: the main database's (the map) and each shard's (its identity).</param>
    public ShardMapMonitor(
        PostgresDataSources dataSources,
        string mainConnectionString,
        string serviceId,
        ShardSet shards,
        ShardsStorageOptions options,
        TimeProvider time,
        ILogger<ShardMapMonitor> logger)
    {
        _mainConnectionString = mainConnectionString;
        _store = new ShardMapStore(dataSources, mainConnectionString);
        ServiceId = serviceId;
        Shards = shards;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public string ServiceId { get; }

    /// <summary>The shard databases this silo is configured with.</summary>
    public ShardSet Shards { get; }

    /// <summary>The map this silo routes with; null until started.</summary>
    public ShardMap? Map => _view?.Map;

    /// <summary>
    /// Checks the shard databases and loads (or registers) the map; idempotent, so every sharded storage of the silo
    /// can ask for it in its lifecycle stage. Throws <see cref="ShardedStorageStartupException"/> when the silo must not start.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_startLock)
        {
            return _started ??= StartCoreAsync(cancellationToken);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        if (_loop is { } loop)
        {
            await loop.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Reads the current map version once: confirms the one in use, adopts a newer one this silo can route with, or
    /// records that a newer one exists that it cannot. True when the silo may route with what it has now.
    /// Database errors propagate (the refresh loop logs them; the lease then runs out).
    /// </summary>
    public Task<bool> RefreshAsync(CancellationToken cancellationToken = default) => RefreshAsync(unlessAtLeast: null, cancellationToken);

    /// <summary>
    /// A shard refused a read or write routed with this silo's map: a resharding closed it to maps older than
    /// <paramref name="acceptedVersion"/>. Reads the current map now rather than at the next refresh, so that the caller's
    /// retry is routed by it (refusals that arrive together share one read). Never throws: when the main database does not
    /// answer, the refresh loop keeps trying and the lease runs out as usual.
    /// </summary>
    public async Task RefreshAfterRefusalAsync(int acceptedVersion)
    {
        if (Volatile.Read(ref _disposed) == 1 || _view is not { } view || view.Map.Version >= acceptedVersion)
        {
            return;
        }

        LogRefreshAfterRefusal(_logger, ServiceId, view.Map.Version, acceptedVersion);
        try
        {
            await RefreshAsync(acceptedVersion, _stopping.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            LogRefreshFailed(_logger, ex, ServiceId, PostgresAvailability.Describe(_mainConnectionString));
        }
    }

    private async Task<bool> RefreshAsync(int? unlessAtLeast, CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            var view = _view ?? throw new InvalidOperationException("The shard map monitor has not started.");
            if (view.Map.Version >= unlessAtLeast)
            {
                return true; // another refusal's refresh got there first
            }

            var askedAt = _time.GetTimestamp();
            var latest = await _store.ReadCurrentAsync(ServiceId, cancellationToken);
            if (latest is null || latest.Version < view.Map.Version)
            {
                LogMapWentBackwards(_logger, ServiceId, view.Map.Version, latest?.Version ?? 0);
                return false;
            }

            if (latest.Version == view.Map.Version)
            {
                _view = view with { ConfirmedAt = askedAt, Newer = null };
                return true;
            }

            if (await ProblemWithAsync(latest, cancellationToken) is { } problem)
            {
                if (view.Newer?.Version != latest.Version)
                {
                    LogNewerMapUnusable(_logger, ServiceId, latest.Version, view.Map.Version, problem);
                }

                _view = view with { Newer = new NewerMap(latest.Version, problem) };
                return false;
            }

            _view = View.Of(latest, askedAt);
            LogMapAdopted(_logger, ServiceId, view.Map.Version, latest.ToString());
            return true;
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>
    /// Where to read <paramref name="grainId"/>'s state; refuses unless the map is current and confirmed, as for writes: a
    /// newer map may have moved the state, and the shard this map names would answer "no such state" (a 404, an empty cart).
    /// </summary>
    public ShardRoute RouteRead(GrainId grainId) => Route(grainId, "read", requireLease: true);

    /// <summary>Where to write or clear <paramref name="grainId"/>'s state; refuses unless the map is current and confirmed.</summary>
    public ShardRoute RouteWrite(GrainId grainId, string verb = "write") => Route(grainId, verb, requireLease: true);

    /// <summary>The shard to read <paramref name="grainId"/>'s state from (while it moves: the shard it moves from).</summary>
    public string ShardForRead(GrainId grainId) => RouteRead(grainId).Shard;

    /// <summary>The shard to write <paramref name="grainId"/>'s state in (while it moves: the shard it moves from).</summary>
    public string ShardForWrite(GrainId grainId, string verb = "write") => RouteWrite(grainId, verb).Shard;

    /// <summary>
    /// How to reach a shard of the map: its configured connection string, or, with
    /// <see cref="ShardsStorageOptions.ReachUnconfiguredShards"/>, the main connection string pointed at the database the
    /// map records (checked to be that shard). Null when this silo cannot reach it.
    /// </summary>
    public ShardConnection? ConnectionFor(string shard) => Shards.Find(shard) ?? _reached.GetValueOrDefault(shard);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stopping.Cancel();
        _stopping.Dispose();
        _refreshing.Dispose();
    }

    private ShardRoute Route(GrainId grainId, string verb, bool requireLease)
    {
        var view = _view ?? throw new ShardsException(
            ShardsErrorCode.StorageUnavailable,
            $"Cannot {verb} {grainId}: the shard map is not loaded yet (the silo is starting). Nothing changed; retry later.");
        if (view.Newer is { } newer)
        {
            throw new ShardsException(
                ShardsErrorCode.StorageUnavailable,
                $"Shard map changed: version {newer.Version} exists, this silo routes with version {view.Map.Version} and cannot load it " +
                $"({newer.Problem}). Refusing to {verb} {grainId} rather than use the wrong shard; nothing changed, retry later.");
        }

        if (requireLease && _time.GetElapsedTime(view.ConfirmedAt) is var age && age > _options.MapLease)
        {
            throw new ShardsException(
                ShardsErrorCode.StorageUnavailable,
                $"Shard map unconfirmed: version {view.Map.Version} was last confirmed {age.TotalSeconds:0.0} s ago " +
                $"(lease {_options.MapLease.TotalSeconds:0.#} s; the main database {PostgresAvailability.Describe(_mainConnectionString)} does not answer). " +
                $"Refusing to {verb} {grainId}, since a newer map may have moved its state to another shard; nothing changed, retry later.");
        }

        var key = grainId.ToString();
        var shard = view.Router.ShardFor(key);
        return view.TargetRouter?.ShardFor(key) is { } target && target != shard
            ? new ShardRoute(shard, target, view.Map.Version)
            : new ShardRoute(shard, null, view.Map.Version);
    }

    /// <summary>
    /// Why this silo cannot route with <paramref name="map"/>, or null. Shards of the map that are not configured are
    /// reached through the main connection string when <see cref="ShardsStorageOptions.ReachUnconfiguredShards"/> is set,
    /// once their database says it is that shard of this service.
    /// </summary>
    private async Task<string?> ProblemWithAsync(ShardMap map, CancellationToken cancellationToken)
    {
        if (_options.ReachUnconfiguredShards)
        {
            foreach (var location in map.Document.AllShards.Where(l => ConnectionFor(l.Name) is null))
            {
                var derived = ShardInspection.ConnectionFor(location, _mainConnectionString, configured: null);
                try
                {
                    var identity = await _store.ClaimIdentityAsync(derived.ConnectionString, ServiceId, location.Name, cancellationToken);
                    if (identity == location.Name)
                    {
                        _reached[location.Name] = derived;
                        LogShardReached(_logger, location.Name, derived.Target, ServiceId);
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    LogShardUnreachable(_logger, location.Name, derived.Target, ex.Message);
                }
            }
        }

        return map.ProblemFor(Shards, name => _reached.ContainsKey(name));
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var shard in Shards.Shards)
            {
                var identity = await _store.ClaimIdentityAsync(shard.ConnectionString, ServiceId, shard.Name, cancellationToken);
                if (identity != shard.Name)
                {
                    throw new ShardedStorageStartupException(
                        $"Shard '{shard.Name}' is configured with the database {shard.Target}, but that database is shard '{identity}' " +
                        $"of service '{ServiceId}'. Fix Shards:Storage:Shards so that each shard names its own database.");
                }
            }

            var askedAt = _time.GetTimestamp();
            var map = await _store.ReadCurrentAsync(ServiceId, cancellationToken);
            if (map is null)
            {
                if (await _store.TryPublishAsync(ServiceId, 1, ShardMapDocument.For(Shards), cancellationToken))
                {
                    LogMapCreated(_logger, ServiceId, Shards.ToString());
                }

                map = await _store.ReadCurrentAsync(ServiceId, cancellationToken)
                    ?? throw new InvalidOperationException($"The shard map of service '{ServiceId}' vanished right after it was created.");
            }

            if (await ProblemWithAsync(map, cancellationToken) is { } problem)
            {
                throw new ShardedStorageStartupException(
                    $"This silo cannot use the shard map: {problem}. Configure every shard of the map (Shards__Storage__Shards__N__Name/ConnectionString); " +
                    "a resharding ('shards reshard add') rolls a new shard's connection string out to every silo first, " +
                    "or set Shards__Storage__ReachUnconfiguredShards=true when every shard database accepts the main connection's credentials.");
            }

            foreach (var unused in Shards.Names.Where(name => map.Document.AllShards.All(s => s.Name != name)))
            {
                LogShardNotInMap(_logger, unused, ServiceId, map.Version);
            }

            _view = View.Of(map, askedAt);
            LogMapLoaded(_logger, ServiceId, map.ToString());
            _loop = RefreshLoopAsync(_stopping.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new ShardedStorageStartupException(
                $"Cannot load the shard map: {ex.Message} (main database {PostgresAvailability.Describe(_mainConnectionString)}; shards {Shards}). " +
                "Every database needs Shards' schema: a silo applies it at start unless Shards:Database:ApplySchemaOnStart is false, or run 'shards db init'.", ex);
        }
    }

    private async Task RefreshLoopAsync(CancellationToken cancellationToken)
    {
        var failing = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.MapRefreshPeriod, _time, cancellationToken);
                await RefreshAsync(cancellationToken);
                if (failing)
                {
                    LogRefreshRecovered(_logger, ServiceId);
                    failing = false;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                if (!failing)
                {
                    LogRefreshFailed(_logger, ex, ServiceId, PostgresAvailability.Describe(_mainConnectionString));
                }

                failing = true;
            }
        }
    }

    /// <summary>What the silo routes with, when it was last confirmed (a timestamp of <see cref="TimeProvider"/>), and a newer version it cannot use.</summary>
    private sealed record View(ShardMap Map, ShardRouter Router, ShardRouter? TargetRouter, long ConfirmedAt, NewerMap? Newer)
    {
        public static View Of(ShardMap map, long confirmedAt) => new(map, map.Document.CreateRouter(), map.Document.CreateTargetRouter(), confirmedAt, null);
    }

    private sealed record NewerMap(int Version, string Problem);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "Shard map of service {ServiceId} created as version 1: {Shards}")]
    private static partial void LogMapCreated(ILogger logger, string serviceId, string shards);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Information, Message = "Shard map of service {ServiceId}: routing with {Map}")]
    private static partial void LogMapLoaded(ILogger logger, string serviceId, string map);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Warning, Message = "Shard map of service {ServiceId} changed from version {Previous} to {Map}; routing with it now")]
    private static partial void LogMapAdopted(ILogger logger, string serviceId, int previous, string map);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Error, Message = "Shard map of service {ServiceId} version {Newer} cannot be used by this silo (still on version {Current}; refusing reads and writes): {Problem}")]
    private static partial void LogNewerMapUnusable(ILogger logger, string serviceId, int newer, int current, string problem);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Error, Message = "Shard map of service {ServiceId} is at version {Stored}, older than version {Current} this silo routes with; not confirming it")]
    private static partial void LogMapWentBackwards(ILogger logger, string serviceId, int current, int stored);

    [LoggerMessage(EventId = 1406, Level = LogLevel.Warning, Message = "Shard map of service {ServiceId} could not be confirmed (main database {Target}); writes are refused once the lease runs out")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception, string serviceId, string target);

    [LoggerMessage(EventId = 1407, Level = LogLevel.Information, Message = "Shard map of service {ServiceId} confirmed again")]
    private static partial void LogRefreshRecovered(ILogger logger, string serviceId);

    [LoggerMessage(EventId = 1409, Level = LogLevel.Information, Message = "Shard {Shard} of the shard map is not configured on this silo; reaching it at {Target} through the main connection string (service {ServiceId})")]
    private static partial void LogShardReached(ILogger logger, string shard, string target, string serviceId);

    [LoggerMessage(EventId = 1410, Level = LogLevel.Warning, Message = "Shard {Shard} of the shard map is not configured on this silo and cannot be reached at {Target}: {Reason}")]
    private static partial void LogShardUnreachable(ILogger logger, string shard, string target, string reason);

    [LoggerMessage(EventId = 1411, Level = LogLevel.Information, Message = "Shard map of service {ServiceId}: a shard refused version {Current} (it accepts {Accepted} and later); reading the current map now")]
    private static partial void LogRefreshAfterRefusal(ILogger logger, string serviceId, int current, int accepted);

    [LoggerMessage(EventId = 1408, Level = LogLevel.Warning, Message = "Configured shard {Shard} is not in the shard map of service {ServiceId} (version {Version}); it stays unused until a map version adds it")]
    private static partial void LogShardNotInMap(ILogger logger, string shard, string serviceId, int version);
}
