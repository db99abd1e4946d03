namespace Shards.Contracts.Operations;

/// <summary>
/// Cluster operations for the launcher. A launcher that sees a silo process exit knows it is dead before any probe
/// does: it asks a surviving silo to declare it dead at once, so its grains reactivate without waiting for probes.
/// </summary>
[Alias("shards.IClusterAdminGrain")]
public interface IClusterAdminGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Writes <paramref name="silo"/> as Dead into the membership table and tells the other silos. False when the
    /// silo was not active (already dead, or unknown). Operators only (<see cref="OperatorOnlyAttribute"/>): the launcher
    /// sends the token it gave its silos.
    /// </summary>
    [OperatorOnly]
    Task<bool> DeclareDeadAsync(SiloAddress silo);

    /// <summary>
    /// The silo that answered: the gateway this call came through (a stateless worker runs there). The launcher calls it
    /// once per route after the cluster started, so that its client holds a connection to several gateways before a
    /// death has to be declared (opening one after a gateway died took ~2 s).
    /// </summary>
    Task<SiloAddress> AnswerAsync();
}
