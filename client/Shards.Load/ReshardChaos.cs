using System.Diagnostics;
using Npgsql;
using Shards.Cli.Core;
using Shards.Contracts;
using Shards.Postgres;
using Shards.Storage.Postgres.Resharding;

namespace Shards.Load;

/// <summary>
/// <c>shards load --chaos reshard</c>: adds a shard database, then removes it again, while the load runs, through the
/// same code as <c>shards reshard add|remove</c> (<see cref="ShardMaps.ResolveAsync"/>, <see cref="ReshardCoordinator"/>).
/// The shard is the first launcher name <c>sN</c> the shard map does not have (on the private PostgreSQL its database
/// <c>shards_sN</c> is created; else it must be configured as <c>Shards__Storage__Shards__N__Name</c>). Each of the two
/// takes two fences (<see cref="ReshardCoordinator.Fence"/>, 17 s by default) plus the move, so this nemesis holds the
/// run: the clients go on past <c>-t</c> until the shard is removed. Ctrl+C interrupts it; the same
/// <c>shards reshard</c> command then finishes it.
/// </summary>
public sealed class ReshardChaos : IChaos
{
    private static readonly TimeSpan s_retryFor = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan s_retryAfter = TimeSpan.FromSeconds(2);
    private readonly CliContext _context;
    private readonly string _main;
    private readonly string _shard;
    private long _struckAt;

    private ReshardChaos(CliContext context, string main, string shard)
    {
        _context = context;
        _main = main;
        _shard = shard;
    }

    public bool HoldsTheRun => true;

    /// <summary>The nemesis, or a message a person can act on when it cannot reshard (no map yet, a resharding under way, no database for a new shard).</summary>
    public static async Task<(ReshardChaos? Chaos, string? Problem)> ForAsync(CliContext context, string main, CancellationToken cancellationToken)
    {
        var serviceId = context.Cluster.ServiceId;
        try
        {
            var map = await ShardMaps.ReadMapAsync(context, main, serviceId, cancellationToken);
            if (map is null)
            {
                return (null, $"--chaos reshard: service '{serviceId}' has no shard map yet: start the cluster first ('shards cluster up').");
            }

            if (await new ReshardingStore(context.DataSources.For(main)).ReadInProgressAsync(serviceId, cancellationToken) is { } running)
            {
                var verb = running.Operation == ReshardOperation.Add ? "add" : "remove";
                return (null, $"--chaos reshard: service '{serviceId}' is in the middle of a resharding ({verb} {running.Shard}): run 'shards reshard {verb} {running.Shard}' to finish it first.");
            }

            var shard = Enumerable.Range(0, ShardDatabases.MaxShards * 4).Select(i => $"s{i}").First(name => map.Document.AllShards.All(s => s.Name != name));
            if (context.StorageOptions.Shards.All(s => s.Name != shard) && context.ConfiguredConnectionString is not null)
            {
                return (null, $"--chaos reshard adds shard '{shard}': it needs the private PostgreSQL of 'shards cluster up' (which gets a database shards_{shard}), " +
                    $"or '{shard}' configured in this shell (Shards__Storage__Shards__N__Name={shard} and its ConnectionString).");
            }

            return (new ReshardChaos(context, main, shard), null);
        }
        catch (NpgsqlException ex)
        {
            return (null, $"--chaos reshard: the main database {PostgresAvailability.Describe(main)} is not reachable: {ex.Message}");
        }
    }

    public Task<ChaosAction> StrikeAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _struckAt, Stopwatch.GetTimestamp());
        var fence = new ReshardCoordinator(_context.DataSources, _main, _context.Cluster.ServiceId, _context.StorageOptions, StateNames.GrainTypes).Fence;
        return Task.FromResult(new ChaosAction(
            "reshard", $"add shard {_shard}, then remove it (each waits 2 fences of {fence.TotalSeconds:0.#} s; the clients go on until both are done)"));
    }

    public async Task WatchAsync(Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _struckAt) == 0)
        {
            return;
        }

        var step = ReshardOperation.Add;
        try
        {
            await ReshardAsync(ReshardOperation.Add, onChange, cancellationToken);
            step = ReshardOperation.Remove;
            await ReshardAsync(ReshardOperation.Remove, onChange, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            onChange(new ChaosAction("reshard stopped", Finish(step, "interrupted")));
        }
        catch (Exception ex) when (ex is ReshardException or CliException or NpgsqlException or PostgresNotAvailableException or TimeoutException)
        {
            onChange(new ChaosAction("reshard FAILED", $"{ex.Message.Split(Environment.NewLine)[0]} ({Finish(step, "failed")})"));
        }
    }

    /// <summary>
    /// One resharding, run again while a database does not answer (another nemesis of the run may have stopped
    /// PostgreSQL): the coordinator resumes where it stopped, as the same command run again would.
    /// </summary>
    private async Task ReshardAsync(ReshardOperation operation, Action<ChaosAction> onChange, CancellationToken cancellationToken)
    {
        var serviceId = _context.Cluster.ServiceId;
        var giveUp = Stopwatch.GetTimestamp() + (long)(s_retryFor.TotalSeconds * Stopwatch.Frequency);
        ReshardResult result;
        while (true)
        {
            try
            {
                var map = await ShardMaps.ReadMapAsync(_context, _main, serviceId, cancellationToken)
                    ?? throw new ReshardException($"Service '{serviceId}' has no shard map any more.");
                var request = await ShardMaps.ResolveAsync(_context, operation, _shard, null, map, cancellationToken);
                result = await new ReshardCoordinator(_context.DataSources, _main, serviceId, _context.StorageOptions, StateNames.GrainTypes)
                    .RunAsync(request, new PhaseReporter(request, onChange), cancellationToken);
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or PostgresNotAvailableException or ReshardException { DependencyDown: true } or CliException { ExitCode: ExitCodes.Unavailable } &&
                Stopwatch.GetTimestamp() < giveUp)
            {
                onChange(new ChaosAction("reshard waits", $"{ex.Message.Split(Environment.NewLine)[0]} (trying again in {s_retryAfter.TotalSeconds:0} s)"));
                await Task.Delay(s_retryAfter, cancellationToken);
            }
        }

        onChange(new ChaosAction(
            $"reshard {result.Request.Verb} done",
            $"shard map version {result.FromVersion} -> {result.TargetVersion}, {result.KeysMoved} key(s) moved in {result.MoveTime.TotalSeconds:0.0} s " +
            $"({result.TotalTime.TotalSeconds:0.0} s with the fences)"));
    }

    private string Finish(ReshardOperation step, string how) => step == ReshardOperation.Add
        ? $"add {_shard} {how}: 'shards reshard add {_shard}' finishes it, then 'shards reshard remove {_shard}'"
        : $"remove {_shard} {how}: 'shards reshard remove {_shard}' finishes it";

    /// <summary>The coordinator's phases as chaos events (not the per-batch progress of the move).</summary>
    private sealed class PhaseReporter(ReshardRequest request, Action<ChaosAction> onChange) : IProgress<ReshardProgress>
    {
        private string? _phase;

        public void Report(ReshardProgress value)
        {
            if (value.Phase != _phase && value.Phase != "moving")
            {
                _phase = value.Phase;
                onChange(new ChaosAction($"reshard {request.Verb}", $"{request.Name}: {value.Phase}"));
            }
        }
    }
}
