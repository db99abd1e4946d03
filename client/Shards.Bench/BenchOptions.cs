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

    All = Calls | Placement | ShardWrites | Scaling,
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

    /// <summary>About five minutes on 2 cores, plus about ten for the scaling suite.</summary>
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
    /// separate servers (the path with the most parts), and scaling with 10^3 and 10^4 keys on 1 silo; about a minute
    /// and a half on a quiet machine.
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
    };
}
