namespace Shards.Tests;

/// <summary>
/// What a test class needs, as its xUnit trait <c>[Trait(TestCategories.Name, TestCategories.Unit)]</c>: every test
/// class has exactly one (<see cref="TestCategoryTests"/> checks it). <c>tests/run --fast</c> runs the unit tests alone
/// (<c>--filter Category=Unit</c>); <c>tests/run</c> runs everything.
/// </summary>
public static class TestCategories
{
    /// <summary>The trait's name.</summary>
    public const string Name = "Category";

    /// <summary>In memory only: no PostgreSQL, no Orleans cluster, no child process, no listening socket. Seconds in all.</summary>
    public const string Unit = "Unit";

    /// <summary>PostgreSQL (the tests' private server), in-process Orleans clusters, in-process HTTP hosts.</summary>
    public const string Integration = "Integration";

    /// <summary>Real processes: silo processes under the launcher, the CLI, chaos on processes (kill, freeze, PostgreSQL restarts), the bench.</summary>
    public const string Process = "Process";

    public static IReadOnlyList<string> All { get; } = [Unit, Integration, Process];
}
