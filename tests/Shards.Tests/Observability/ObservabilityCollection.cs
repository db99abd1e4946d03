namespace Shards.Tests.Observability;

/// <summary>
/// The observability tests run one silo at a time, after the parallel tests: OpenTelemetry .NET stops every meter of
/// a name once one meter of that name is disposed (open-telemetry/opentelemetry-dotnet#6412), so another silo host of
/// this test process stopping (its "Shards" and ASP.NET Core meters disposed) would blank the metrics under test.
/// A silo process has a single host, so this only concerns tests that run several hosts in one process.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ObservabilityCollection
{
    public const string Name = "observability";
}
