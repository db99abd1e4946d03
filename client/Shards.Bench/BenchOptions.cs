namespace Shards.Bench;

/// <summary>The parts of <c>shards bench</c> (<c>--suite</c>); the default runs them all.</summary>
[Flags]
public enum BenchParts
{
    /// <summary>Call path, persisted writes vs pgbench, memory and CPU.</summary>
    Calls = 1,

    /// <summary>Placement spread and churn (no PostgreSQL, no silo).</summary>
    Placement = 2,

    /// <summary>Persisted writes with 1, 2 and 4 shard databases, on one server and on separate servers, vs pgbench.</summary>
    ShardWrites = 4,

    /// <summary>Read throughput and memory by key space (10^3 to 10^6 keys) and by silo count.</summary>
    Scaling = 8,

    /// <summary>The HTTP path: endpoints from the bare /health/live to checkout, direct, spread and through nginx.</summary>
    Http = 16,

    All = Calls | Placement | ShardWrites | Scaling | Http,
}

/// <summary>The names <c>--suite</c> takes, and the parts each runs.</summary>
public static class BenchSuiteNames
{
    public const string All = "all";

    private static readonly (string Name, BenchParts Parts)[] s_suites =
    [
        (All, BenchParts.All),
        ("calls", BenchParts.Calls),
        ("placement", BenchParts.Placement),
        ("shard-writes", BenchParts.ShardWrites),
        ("scaling", BenchParts.Scaling),
        ("http", BenchParts.Http),
    ];

    public static IReadOnlyList<string> Names { get; } = [.. s_suites.Select(s => s.Name)];

    /// <summary>The parts of suite <paramref name="name"/>; throws for a name not in <see cref="Names"/>.</summary>
    public static BenchParts Parts(string name) =>
        s_suites.SingleOrDefault(s => s.Name == name) is { Name: not null } suite
            ? suite.Parts
            : throw new ArgumentException($"'{name}' is not a bench suite: {string.Join(", ", Names)}.", nameof(name));
}

/// <summary>Grain state over <see cref="Shards"/> databases: all on the bench's server, or one per private server.</summary>
public sealed record ShardLayout(int Shards, bool SeparateServers)
{
    public string Describe() => Shards == 1 ? "1 shard database"
        : $"{Shards} shard databases on {(SeparateServers ? $"{Shards} separate servers" : "one server")}";
}

/// <summary>What <c>shards bench</c> runs: the full suite by default, a smoke run of about a minute with <c>--quick</c>.</summary>
public sealed record BenchOptions
{
    /// <summary>Silo counts the call path is measured with.</summary>
    public required IReadOnlyList<int> SiloCounts { get; init; }

    /// <summary>Calls in flight for the call path, one fixed-duration run per level.</summary>
    public required IReadOnlyList<int> Concurrency { get; init; }

    /// <summary>
    /// Measured time per workload and level, split into <see cref="Rounds"/> runs: each round runs the three workloads
    /// in a rotated order, so drift and neighbours' bursts on shared cores hit each of them alike.
    /// </summary>
    public required TimeSpan Duration { get; init; }

    public int Rounds { get; init; } = 3;

    /// <summary>Calls made and thrown away before each measured run.</summary>
    public required TimeSpan Warmup { get; init; }

    /// <summary>Writes in flight, and pgbench connections, for the persisted-write comparison.</summary>
    public required IReadOnlyList<int> WriteConcurrency { get; init; }

    /// <summary>How long each write run and each pgbench run lasts.</summary>
    public required TimeSpan WriteDuration { get; init; }

    /// <summary>Grains activated for the memory figures (cumulative steps).</summary>
    public required IReadOnlyList<int> ActivationSteps { get; init; }

    /// <summary>Seeded products and carts (and ping keys) the reads pick from at random.</summary>
    public int Keys { get; init; } = 1000;

    /// <summary>Where the PNGs and results.json go (the private PostgreSQL lives under .shards/bench/postgres).</summary>
    public string OutputDirectory { get; init; } = Path.Combine(".shards", "bench");

    /// <summary>Where the bench's private PostgreSQL (postgres/, deleted at the end) and the silo logs (logs/) live.</summary>
    public string WorkDirectory { get; init; } = Path.Combine(".shards", "bench");

    public bool Quick { get; init; }

    public BenchParts Parts { get; init; } = BenchParts.All;

    /// <summary>Keys placed by each placement director (with 3 silos, then 4).</summary>
    public int PlacementKeys { get; init; } = 100_000;

    /// <summary>The shard-count write runs, in order; the first is the baseline of the scaling ratio.</summary>
    public IReadOnlyList<ShardLayout> ShardLayouts { get; init; } =
        [new(1, false), new(2, false), new(4, false), new(2, true), new(4, true)];

    /// <summary>Writes in flight in each shard-count run (split between the servers for pgbench).</summary>
    public int ShardWriteInFlight { get; init; } = 64;

    /// <summary>How long each shard-count write run and its pgbench run last.</summary>
    public TimeSpan ShardWriteDuration { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>Key spaces of the scaling suite, growing: each step activates the keys the previous one did not.</summary>
    public IReadOnlyList<int> ScalingKeySpaces { get; init; } = [1000, 10_000, 100_000, 1_000_000];

    /// <summary>Silo counts of the scaling suite, a fresh cluster each.</summary>
    public IReadOnlyList<int> ScalingSiloCounts { get; init; } = [1, 2, 3];

    /// <summary>Reads in flight in each scaling step's closed loop.</summary>
    public int ScalingInFlight { get; init; } = 64;

    /// <summary>Measured time per workload and scaling step, split into <see cref="Rounds"/> rotated rounds.</summary>
    public TimeSpan ScalingDuration { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Activations in flight while a scaling step activates its keys.</summary>
    public int ScalingActivationInFlight { get; init; } = 256;

    /// <summary>Time all steps of one silo count may spend activating; the step it runs out in reports the keys it reached.</summary>
    public TimeSpan ScalingActivationBudget { get; init; } = TimeSpan.FromSeconds(170);

    /// <summary>Memory (MemAvailable) left to the rest of the machine: activation stops short rather than go below it.</summary>
    public int ScalingMemoryReserveMb { get; init; } = 4096;

    /// <summary>Silos of the HTTP suite's cluster: "direct" uses the first, "spread" and nginx all of them.</summary>
    public int HttpSilos { get; init; } = 3;

    /// <summary>Connections (= requests in flight, one per connection) of the HTTP suite, one level after the other.</summary>
    public IReadOnlyList<int> HttpConnections { get; init; } = [1, 16, 64, 256];

    /// <summary>
    /// Targets of the HTTP suite, in the order run (<see cref="HttpSuite.Targets"/>; <c>--http-targets</c> narrows them).
    /// </summary>
    public IReadOnlyList<string> HttpTargets { get; init; } = HttpSuite.Targets;

    /// <summary>
    /// Endpoints of the HTTP suite (<c>--http-endpoints</c> narrows them): the bare endpoint is always among them, as the
    /// denominator of every ratio.
    /// </summary>
    public IReadOnlyList<HttpEndpoint> HttpEndpointsToRun { get; init; } = HttpEndpoints.All;

    /// <summary>Measured time per endpoint, target and connection level, split into <see cref="HttpRounds"/> rotated rounds.</summary>
    public TimeSpan HttpDuration { get; init; } = TimeSpan.FromSeconds(3);

    public int HttpRounds { get; init; } = 3;

    /// <summary>
    /// How long each endpoint is warmed at the highest connection count before a target's first level (null: twice
    /// <see cref="HttpWarmup"/>). A narrow run (<c>--http-connections 64</c>) has no lower levels to warm the silos'
    /// code first: a few seconds here (<c>--http-warmup</c>) keep JIT tiering out of its figures.
    /// </summary>
    public TimeSpan? HttpTargetWarmup { get; init; }

    /// <summary>Requests sent and thrown away before each measured HTTP round.</summary>
    public TimeSpan HttpWarmup { get; init; } = TimeSpan.FromSeconds(0.3);

    /// <summary>
    /// Carts prepared with one line each for the checkout endpoint (each checkout takes a cart of its own): when they run
    /// out, the checkout run ends early and says so.
    /// </summary>
    public int HttpCheckoutCarts { get; init; } = 40_000;

    /// <summary>Most requests one HTTP run sends (warm-up or measured), whatever its duration: every load is bounded in count too.</summary>
    public long HttpMaxRequestsPerRun { get; init; } = 2_000_000;

    /// <summary>About five minutes on 2 cores, plus about ten for the scaling suite and five for the HTTP suite.</summary>
    public static BenchOptions Full(string outputDirectory) => new()
    {
        SiloCounts = [1, 3],
        Concurrency = [1, 16, 64, 256],
        Duration = TimeSpan.FromSeconds(4.5),
        Rounds = 3,
        Warmup = TimeSpan.FromSeconds(0.3),
        WriteConcurrency = [16, 64],
        WriteDuration = TimeSpan.FromSeconds(8),
        ActivationSteps = [1000, 10_000],
        OutputDirectory = outputDirectory,
    };

    /// <summary>
    /// The CI smoke run: one silo, short runs, fewer levels, and of the shard-count runs only 2 shard databases on 2
    /// separate servers (the path with the most parts), scaling with 10^3 and 10^4 keys on 1 silo, and the HTTP suite
    /// on 2 silos at 1 and 16 connections; about two and a half minutes on a quiet machine.
    /// </summary>
    public static BenchOptions QuickRun(string outputDirectory) => new()
    {
        SiloCounts = [1],
        Concurrency = [1, 16],
        Duration = TimeSpan.FromSeconds(1.5),
        Rounds = 1,
        Warmup = TimeSpan.FromSeconds(0.25),
        WriteConcurrency = [16],
        WriteDuration = TimeSpan.FromSeconds(3),
        ActivationSteps = [1000],
        Keys = 200,
        OutputDirectory = outputDirectory,
        Quick = true,
        ShardLayouts = [new(2, true)],
        ShardWriteInFlight = 16,
        ShardWriteDuration = TimeSpan.FromSeconds(2),
        ScalingKeySpaces = [1000, 10_000],
        ScalingSiloCounts = [1],
        ScalingDuration = TimeSpan.FromSeconds(1),
        ScalingActivationBudget = TimeSpan.FromSeconds(30),
        HttpSilos = 2,
        HttpConnections = [1, 16],
        HttpDuration = TimeSpan.FromSeconds(1),
        HttpRounds = 1,
        HttpWarmup = TimeSpan.FromSeconds(0.2),
        HttpCheckoutCarts = 6_000,
    };
}
