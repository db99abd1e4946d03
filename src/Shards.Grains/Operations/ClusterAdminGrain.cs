using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Shards.Contracts.Operations;

namespace Shards.Grains.Operations;

/// <summary>Runs on whichever silo the caller's gateway is (stateless worker): never on the dead one.</summary>
[GrainType("cluster-admin")]
[StatelessWorker]
public sealed partial class ClusterAdminGrain(IClusterMembershipService membership, ILocalSiloDetails local, ILogger<ClusterAdminGrain> logger)
    : Grain, IClusterAdminGrain
{
    public async Task<bool> DeclareDeadAsync(SiloAddress silo)
    {
        if (silo.Equals(local.SiloAddress))
        {
            return false; // a silo cannot declare itself dead; the caller retries through another gateway
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var declared = await membership.TryKill(silo);
        LogDeclared(logger, silo, local.SiloAddress, declared, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return declared;
    }

    public Task<SiloAddress> AnswerAsync() => Task.FromResult(local.SiloAddress);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Launcher asked to declare {Silo} dead (from {Local}): {Declared}, in {ElapsedMs:0} ms")]
    private static partial void LogDeclared(ILogger logger, SiloAddress silo, SiloAddress local, bool declared, double elapsedMs);
}
