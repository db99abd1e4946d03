using System.Globalization;

namespace Shards.Load;

/// <summary>A nemesis of <c>shards load --chaos</c>: what it does to the cluster, once, during the run (then it heals).</summary>
public enum ChaosMode
{
    /// <summary>SIGKILL one random silo of the cluster on this machine (<c>shards cluster up</c> restarts it).</summary>
    Kill,

    /// <summary>SIGSTOP one random silo for <see cref="LoadOptions.FreezeFor"/>, then SIGCONT.</summary>
    Freeze,

    /// <summary>SIGUSR2 to the <c>shards cluster up</c> launcher: it replaces its silos one at a time.</summary>
    Restart,

    /// <summary>Stop the private PostgreSQL for <see cref="LoadOptions.Outage"/>, then start it again (<c>pg-restart</c>).</summary>
    PgRestart,

    /// <summary>SIGSTOP every process of the private PostgreSQL for <see cref="LoadOptions.StallFor"/>, then SIGCONT (<c>pg-stall</c>).</summary>
    PgStall,

    /// <summary>Every client on one cart and one product for <see cref="LoadOptions.HotFor"/>.</summary>
    Hot,

    /// <summary>Add a shard database, then remove it again (<c>shards reshard add|remove</c>) while the load runs.</summary>
    Reshard,

    /// <summary>SIGKILL the primary node of the <c>--ha</c> formation (keeper and PostgreSQL); started again after <see cref="LoadOptions.Outage"/>.</summary>
    PgFailover,

    /// <summary>A planned switchover of the <c>--ha</c> formation (<c>pg_autoctl perform switchover</c>).</summary>
    PgSwitchover,

    /// <summary>SIGKILL the standby node of the <c>--ha</c> formation; started again after <see cref="LoadOptions.Outage"/>.</summary>
    PgStandbyKill,

    /// <summary>Cut one silo's host from the other silos' hosts (not from PostgreSQL, nor from the clients) for <see cref="LoadOptions.FaultFor"/> (<c>cluster up --hosts</c>).</summary>
    Partition,

    /// <summary>Cut one silo's host from everything, PostgreSQL and clients too, for <see cref="LoadOptions.FaultFor"/>.</summary>
    Isolate,

    /// <summary>Drop what one silo's host sends to another's, not the other way, for <see cref="LoadOptions.FaultFor"/> (<c>one-way</c>).</summary>
    OneWay,

    /// <summary>Drop 10 % of the packets between the silos' hosts for <see cref="LoadOptions.FaultFor"/>.</summary>
    Loss,

    /// <summary>Partition one silo's host, heal, partition again ... every few seconds for <see cref="LoadOptions.FaultFor"/>.</summary>
    Flap,

    /// <summary>Delay every packet between the silos' hosts by 100 ms ± 20 ms (each way) for <see cref="LoadOptions.FaultFor"/>.</summary>
    Latency,
}

/// <summary>How nemeses are spelled on the command line and in reports.</summary>
public static class ChaosModes
{
    public const string Spellings = "kill|freeze|restart|pg-restart|pg-stall|hot|reshard|pg-failover|pg-switchover|pg-standby-kill|partition|isolate|one-way|loss|flap|latency";

    /// <summary>The nemeses that need simulated hosts (<c>shards cluster up --hosts N</c>): they act on the network between them.</summary>
    public static readonly IReadOnlySet<ChaosMode> Network = new HashSet<ChaosMode> { ChaosMode.Partition, ChaosMode.Isolate, ChaosMode.OneWay, ChaosMode.Loss, ChaosMode.Flap, ChaosMode.Latency };

    /// <summary>The nemeses of the <c>--ha</c> PostgreSQL formation.</summary>
    public static readonly IReadOnlySet<ChaosMode> Formation = new HashSet<ChaosMode> { ChaosMode.PgFailover, ChaosMode.PgSwitchover, ChaosMode.PgStandbyKill };

    public static string Name(ChaosMode mode) => mode switch
    {
        ChaosMode.PgRestart => "pg-restart",
        ChaosMode.PgStall => "pg-stall",
        ChaosMode.PgFailover => "pg-failover",
        ChaosMode.PgSwitchover => "pg-switchover",
        ChaosMode.PgStandbyKill => "pg-standby-kill",
        ChaosMode.OneWay => "one-way",
        _ => mode.ToString().ToLowerInvariant(),
    };

    /// <summary>The nemesis spelled <paramref name="text"/>; null when it is none of <see cref="Spellings"/>.</summary>
    public static ChaosMode? Parse(string text) =>
        Enum.GetValues<ChaosMode>().Cast<ChaosMode?>().FirstOrDefault(mode => string.Equals(Name(mode!.Value), text.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// A comma-separated list (<c>kill,freeze,pg-stall</c>; <c>none</c> or empty: no chaos) and the problems with it
    /// (unknown names, a nemesis listed twice, <c>none</c> with others), as messages a person can act on.
    /// </summary>
    public static (IReadOnlyList<ChaosMode> Modes, IReadOnlyList<string> Errors) ParseList(string text)
    {
        var modes = new List<ChaosMode>();
        var errors = new List<string>();
        var names = text.Split(',', StringSplitOptions.TrimEntries);
        if (names.All(n => n.Length == 0 || n.Equals("none", StringComparison.OrdinalIgnoreCase)))
        {
            return (modes, names.Length > 1 ? ["--chaos none stands alone: give it, or a list of nemeses, not both."] : errors);
        }

        foreach (var name in names)
        {
            if (name.Equals("none", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add("--chaos none stands alone: give it, or a list of nemeses, not both.");
            }
            else if (Parse(name) is not { } mode)
            {
                errors.Add($"--chaos: unknown nemesis '{name}'; the nemeses are {Spellings.Replace('|', ',')} (comma-separated, e.g. kill,pg-stall).");
            }
            else if (modes.Contains(mode))
            {
                errors.Add($"--chaos lists {Name(mode)} twice: each nemesis strikes once per run.");
            }
            else
            {
                modes.Add(mode);
            }
        }

        return (modes, errors);
    }

    /// <summary>The nemeses as the command line spells them: <c>kill,pg-stall</c>.</summary>
    public static string Names(IEnumerable<ChaosMode> modes) => string.Join(',', modes.Select(Name));
}

/// <summary>
/// One load run, like siege's: <see cref="Concurrency"/> clients, each calling one request after the other until
/// <see cref="Duration"/> has passed or it made <see cref="RequestsPerClient"/> requests.
/// </summary>
public sealed record LoadOptions
{
    public const int MaxConcurrency = 1000;
    public const int MaxKeys = 100_000;
    public const int MaxRequestsPerClient = 1_000_000;
    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(24);

    public int Concurrency { get; init; } = 25;

    /// <summary>How long the run lasts (siege's <c>-t</c>); null when <see cref="RequestsPerClient"/> bounds it.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Requests each client makes (siege's <c>-r</c>); null when <see cref="Duration"/> bounds the run.</summary>
    public int? RequestsPerClient { get; init; }

    /// <summary>Number of carts the clients pick from at random (and products: at most <see cref="LoadWorkload.Products"/>).</summary>
    public int Keys { get; init; } = 1000;

    /// <summary>Share of requests that are writes (the rest are reads), 0-100.</summary>
    public int WritePercent { get; init; } = 50;

    /// <summary>
    /// Share of requests on products (upserts and reads, split by <see cref="WritePercent"/>), 0-100; the others are on
    /// carts (adds and reads). Product upserts write unique names, so that the history checker can tell every value apart.
    /// </summary>
    public int ProductPercent { get; init; } = 10;

    /// <summary>The nemeses of the run, in the order they strike; empty: no chaos.</summary>
    public IReadOnlyList<ChaosMode> Chaos { get; init; } = [];

    public static readonly TimeSpan DefaultOutage = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan MaxOutage = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan DefaultFreeze = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan DefaultStall = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan DefaultHot = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultFault = TimeSpan.FromSeconds(10);

    /// <summary>How long a network nemesis (<see cref="ChaosModes.Network"/>) keeps its fault; null: <see cref="DefaultFault"/>.</summary>
    public TimeSpan? FaultFor { get; init; }

    /// <summary>How long pg-failover and pg-standby-kill keep the killed node down when <c>--outage</c> is not given.</summary>
    public static readonly TimeSpan DefaultNodeDown = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long <see cref="ChaosMode.PgRestart"/> keeps PostgreSQL stopped (null: <see cref="DefaultOutage"/>), and
    /// <see cref="ChaosMode.PgFailover"/> / <see cref="ChaosMode.PgStandbyKill"/> the killed node (null: <see cref="DefaultNodeDown"/>); see <see cref="LengthOf"/>.
    /// </summary>
    public TimeSpan? Outage { get; init; }

    /// <summary>How long <see cref="ChaosMode.Freeze"/> keeps the silo stopped; null: <see cref="DefaultFreeze"/>.</summary>
    public TimeSpan? FreezeFor { get; init; }

    /// <summary>How long <see cref="ChaosMode.PgStall"/> keeps PostgreSQL stopped; null: <see cref="DefaultStall"/>.</summary>
    public TimeSpan? StallFor { get; init; }

    /// <summary>How long <see cref="ChaosMode.Hot"/> keeps every client on one cart and one product; null: <see cref="DefaultHot"/>.</summary>
    public TimeSpan? HotFor { get; init; }

    /// <summary>The outage of a <see cref="ChaosMode.PgRestart"/> run; null for other runs.</summary>
    public TimeSpan? EffectiveOutage => LengthOf(ChaosMode.PgRestart);

    /// <summary>When the nemesis strikes (one nemesis only), after the start of the run; null: the middle of a timed run.</summary>
    public TimeSpan? ChaosAt { get; init; }

    /// <summary>The first strike: <see cref="ChaosAt"/>, else the middle of a timed run (null without chaos).</summary>
    public TimeSpan? EffectiveChaosAt => Strikes().Select(s => (TimeSpan?)s.At).FirstOrDefault();

    public bool Has(ChaosMode mode) => Chaos.Contains(mode);

    /// <summary>When <paramref name="mode"/> strikes; null when it is not in the run (or the run has no known length).</summary>
    public TimeSpan? StrikeOf(ChaosMode mode) => Strikes().Where(s => s.Mode == mode).Select(s => (TimeSpan?)s.At).FirstOrDefault();

    /// <summary>
    /// How long a nemesis keeps its damage before it heals itself (null: it heals at once or on its own, as a killed silo
    /// restarted by the launcher, or takes as long as it takes, as a resharding). A length not given is the nemesis'
    /// default, at most half the time left in a timed run after it strikes, so that the defaults always heal in time.
    /// </summary>
    public TimeSpan? LengthOf(ChaosMode mode)
    {
        var (given, fallback) = mode switch
        {
            ChaosMode.Freeze => (FreezeFor, DefaultFreeze),
            ChaosMode.PgStall => (StallFor, DefaultStall),
            ChaosMode.Hot => (HotFor, DefaultHot),
            ChaosMode.PgRestart => (Outage, DefaultOutage),
            ChaosMode.PgFailover or ChaosMode.PgStandbyKill => (Outage, DefaultNodeDown),
            _ when ChaosModes.Network.Contains(mode) => (FaultFor, DefaultFault),
            _ => ((TimeSpan?)null, TimeSpan.Zero),
        };
        if (!Has(mode) || fallback == TimeSpan.Zero)
        {
            return null;
        }

        if (given is { } length)
        {
            return length;
        }

        return Duration is { } total && StrikeOf(mode) is { } at && (total - at) / 2 < fallback ? (total - at) / 2 : fallback;
    }

    /// <summary>
    /// When each nemesis strikes: one at <see cref="ChaosAt"/> (default: the middle of the run); several spread evenly
    /// over the middle half of a timed run (from a quarter to three quarters), in the order given.
    /// </summary>
    public IReadOnlyList<(ChaosMode Mode, TimeSpan At)> Strikes()
    {
        if (Chaos.Count == 0)
        {
            return [];
        }

        if (Chaos.Count == 1)
        {
            return (ChaosAt ?? Duration / 2) is { } at ? [(Chaos[0], at)] : [];
        }

        return Duration is not { } length
            ? []
            : Chaos.Select((mode, i) => (mode, length * (0.25 + (0.5 * i / (Chaos.Count - 1))))).ToList();
    }

    /// <summary>
    /// The run as given on the command line, with the default (<c>-t 30s</c>) when neither <c>-t</c> nor <c>-r</c>
    /// is given; <see cref="Validate"/> reports giving both.
    /// </summary>
    public LoadOptions WithDefaults() =>
        Duration is null && RequestsPerClient is null ? this with { Duration = DefaultDuration } : this;

    /// <summary>Every reason these options cannot run, as messages a person can act on; empty when they can.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Concurrency is < 1 or > MaxConcurrency)
        {
            errors.Add($"-c/--concurrent must be between 1 and {MaxConcurrency} (got {Concurrency}).");
        }

        if (Duration is not null && RequestsPerClient is not null)
        {
            errors.Add("Give either -t/--time or -r/--reps, not both.");
        }
        else if (Duration is null && RequestsPerClient is null)
        {
            errors.Add("Give -t/--time or -r/--reps.");
        }

        if (Duration is { } duration && (duration <= TimeSpan.Zero || duration > MaxDuration))
        {
            errors.Add($"-t/--time must be more than 0 and at most {LoadDuration.Format(MaxDuration)} (got {LoadDuration.Format(duration)}).");
        }

        if (RequestsPerClient is < 1 or > MaxRequestsPerClient)
        {
            errors.Add($"-r/--reps must be between 1 and {MaxRequestsPerClient} (got {RequestsPerClient}).");
        }

        if (Keys is < 1 or > MaxKeys)
        {
            errors.Add($"--keys must be between 1 and {MaxKeys} (got {Keys}).");
        }

        if (WritePercent is < 0 or > 100)
        {
            errors.Add($"--writes is a percentage, 0 to 100 (got {WritePercent}).");
        }

        if (ProductPercent is < 0 or > 100)
        {
            errors.Add($"--products is a percentage, 0 to 100 (got {ProductPercent}).");
        }

        if (Chaos.Distinct().Count() != Chaos.Count)
        {
            errors.Add("--chaos lists a nemesis twice: each strikes once per run.");
        }

        ValidateStrikes(errors);
        if (Outage is not null && !Has(ChaosMode.PgRestart) && !Has(ChaosMode.PgFailover) && !Has(ChaosMode.PgStandbyKill))
        {
            errors.Add("--outage needs --chaos pg-restart, pg-failover or pg-standby-kill.");
        }

        foreach (var mode in new[] { ChaosMode.PgRestart, ChaosMode.PgFailover, ChaosMode.PgStandbyKill }.Where(Has))
        {
            ValidateLength(errors, mode, Outage, "--outage", MaxOutage);
        }

        ValidateLength(errors, ChaosMode.Freeze, FreezeFor, "--freeze-for", MaxOutage);
        ValidateLength(errors, ChaosMode.PgStall, StallFor, "--stall-for", MaxOutage);
        ValidateLength(errors, ChaosMode.Hot, HotFor, "--hot-for", MaxDuration);
        if (FaultFor is not null && !Chaos.Any(ChaosModes.Network.Contains))
        {
            errors.Add("--fault-for needs a network nemesis: --chaos partition, isolate, one-way, loss or flap.");
        }

        foreach (var mode in Chaos.Where(ChaosModes.Network.Contains))
        {
            ValidateLength(errors, mode, FaultFor, "--fault-for", MaxOutage);
        }

        return errors;
    }

    private void ValidateStrikes(List<string> errors)
    {
        if (Chaos.Count == 0 && ChaosAt is not null)
        {
            errors.Add("--chaos-at needs --chaos (e.g. --chaos kill).");
        }
        else if (Chaos.Count > 1 && ChaosAt is not null)
        {
            errors.Add("--chaos-at times a single nemesis; several are spread evenly over the middle half of the run (leave --chaos-at out).");
        }
        else if (Chaos.Count > 1 && Duration is null)
        {
            errors.Add("Several nemeses are spread over the middle half of the run, whose length -r/--reps does not fix in advance: give -t/--time instead.");
        }
        else if (ChaosAt is { } at && at <= TimeSpan.Zero)
        {
            errors.Add($"--chaos-at must be more than 0 seconds (got {LoadDuration.Format(at)}).");
        }
        else if (ChaosAt is { } strike && Duration is { } length && strike >= length)
        {
            errors.Add($"--chaos-at ({LoadDuration.Format(strike)}) must come before the end of the run (-t {LoadDuration.Format(length)}).");
        }
        else if (Chaos.Count == 1 && ChaosAt is null && RequestsPerClient is not null)
        {
            errors.Add("With -r/--reps the length of the run is not known in advance: give --chaos-at too (e.g. --chaos-at 10s).");
        }

        if (Has(ChaosMode.Reshard) && Duration is null)
        {
            errors.Add("--chaos reshard needs -t/--time: the clients keep running until the shard is added and removed again, which -r/--reps cannot promise.");
        }
    }

    /// <summary>A nemesis' length: only with the nemesis, positive, bounded, and healed before the run ends.</summary>
    private void ValidateLength(List<string> errors, ChaosMode mode, TimeSpan? given, string option, TimeSpan max)
    {
        var name = ChaosModes.Name(mode);
        if (given is not null && !Has(mode))
        {
            errors.Add($"{option} needs --chaos {name}.");
        }
        else if (given is { } length && (length <= TimeSpan.Zero || length > max))
        {
            errors.Add($"{option} must be more than 0 and at most {LoadDuration.Format(max)} (got {LoadDuration.Format(length)}).");
        }
        else if (LengthOf(mode) is { } lasts && StrikeOf(mode) is { } at && Duration is { } total && at + lasts >= total)
        {
            var what = mode switch
            {
                ChaosMode.PgRestart => "PostgreSQL would still be down",
                ChaosMode.PgFailover or ChaosMode.PgStandbyKill => "The killed PostgreSQL node would still be down",
                ChaosMode.PgStall => "PostgreSQL would still be stopped",
                ChaosMode.Freeze => "The silo would still be frozen",
                _ when ChaosModes.Network.Contains(mode) => "The network fault would still be there",
                _ => "The clients would still be on one key",
            };
            errors.Add($"{what} when the run ends ({name} at {LoadDuration.Format(at)} + {option} {LoadDuration.Format(lasts)} >= -t {LoadDuration.Format(total)}): " +
                $"give a longer -t{(Chaos.Count == 1 ? ", an earlier --chaos-at" : string.Empty)} or a shorter {option}.");
        }
    }
}

/// <summary>siege-style durations: <c>30s</c>, <c>2m</c>, <c>1h</c>, or plain seconds (<c>45</c>, <c>1.5</c>).</summary>
public static class LoadDuration
{
    public static TimeSpan Parse(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            throw new FormatException("A duration is empty: write e.g. 30s, 2m, 1h or a number of seconds.");
        }

        var unit = char.ToLowerInvariant(trimmed[^1]);
        var (number, seconds) = unit switch
        {
            's' => (trimmed[..^1], 1d),
            'm' => (trimmed[..^1], 60d),
            'h' => (trimmed[..^1], 3600d),
            _ => (trimmed, 1d),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) ||
            double.IsInfinity(value * seconds) || value * seconds > TimeSpan.MaxValue.TotalSeconds)
        {
            throw new FormatException($"'{text}' is not a duration: write e.g. 30s, 2m, 1h or a number of seconds.");
        }

        return TimeSpan.FromSeconds(value * seconds);
    }

    /// <summary>The shortest of <c>1h</c>, <c>2m</c>, <c>30s</c>, <c>1.5s</c>.</summary>
    public static string Format(TimeSpan duration) => duration switch
    {
        { Ticks: > 0 } when duration.TotalHours == Math.Floor(duration.TotalHours) => $"{duration.TotalHours:0}h",
        { Ticks: > 0 } when duration.TotalMinutes == Math.Floor(duration.TotalMinutes) => $"{duration.TotalMinutes:0}m",
        _ => $"{duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s",
    };
}
