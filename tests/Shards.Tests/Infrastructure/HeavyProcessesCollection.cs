namespace Shards.Tests.Infrastructure;

/// <summary>
/// Tests that start silo processes, many CLI processes, or a load run: they run one after the other (not alongside
/// each other), so that on a 2-core machine none starves another's silos into message timeouts.
/// </summary>
[CollectionDefinition(Name)]
public sealed class HeavyProcessesCollection
{
    public const string Name = "Heavy processes";
}
