using System.Globalization;

namespace Shards.Client.Load;

/// <summary>What <c>shards load --chaos</c> does to the cluster during the run.</summary>
public enum ChaosMode
{
    None,

    /// <summary>SIGKILL one random silo of the cluster on this machine.</summary>
    Kill,

    /// <summary>SIGUSR2 to the <c>shards cluster up</c> launcher: it replaces its silos one at a time.</summary>
    Restart,

    /// <summary>Stop the private PostgreSQL for <see cref="LoadOptions.Outage"/>, then start it again (<c>pg-restart</c>).</summary>
    PgRestart,
}

/// <summary>How chaos modes are spelled on the command line and in reports.</summary>
public static class ChaosModes
{
    public const string Spellings = "none|kill|restart|pg-restart";

    public static string Name(ChaosMode mode) => mode switch
    {
        ChaosMode.PgRestart => "pg-restart",
        _ => mode.ToString().ToLowerInvariant(),
    };

    /// <summary>The mode spelled <paramref name="text"/>; null when it is none of <see cref="Spellings"/>.</summary>
    public static ChaosMode? Parse(string text) =>
        Enum.GetValues<ChaosMode>().Cast<ChaosMode?>().FirstOrDefault(mode => string.Equals(Name(mode!.Value), text.Trim(), StringComparison.OrdinalIgnoreCase));
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

    /// <summary>Number of carts the clients pick from at random.</summary>
    public int Keys { get; init; } = 1000;

    /// <summary>Share of requests that are writes (the rest are reads), 0-100.</summary>
    public int WritePercent { get; init; } = 50;

    public ChaosMode Chaos { get; init; } = ChaosMode.None;

    public static readonly TimeSpan DefaultOutage = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan MaxOutage = TimeSpan.FromMinutes(10);

    /// <summary>How long <see cref="ChaosMode.PgRestart"/> keeps PostgreSQL stopped; null: <see cref="DefaultOutage"/>.</summary>
    public TimeSpan? Outage { get; init; }

    /// <summary>The outage of a <see cref="ChaosMode.PgRestart"/> run; null for other modes.</summary>
    public TimeSpan? EffectiveOutage => Chaos == ChaosMode.PgRestart ? Outage ?? DefaultOutage : null;

    /// <summary>When the chaos strikes, after the start of the run; null: the middle of a timed run.</summary>
    public TimeSpan? ChaosAt { get; init; }

    /// <summary>The chaos moment: <see cref="ChaosAt"/>, else the middle of a timed run.</summary>
    public TimeSpan? EffectiveChaosAt => Chaos == ChaosMode.None ? null : ChaosAt ?? Duration / 2;

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

        if (Chaos == ChaosMode.None && ChaosAt is not null)
        {
            errors.Add("--chaos-at needs --chaos kill, restart or pg-restart.");
        }
        else if (ChaosAt is { } at && at <= TimeSpan.Zero)
        {
            errors.Add($"--chaos-at must be more than 0 seconds (got {LoadDuration.Format(at)}).");
        }
        else if (ChaosAt is { } strike && Duration is { } length && strike >= length)
        {
            errors.Add($"--chaos-at ({LoadDuration.Format(strike)}) must come before the end of the run (-t {LoadDuration.Format(length)}).");
        }
        else if (Chaos != ChaosMode.None && ChaosAt is null && RequestsPerClient is not null)
        {
            errors.Add("With -r/--reps the length of the run is not known in advance: give --chaos-at too (e.g. --chaos-at 10s).");
        }

        if (Outage is not null && Chaos != ChaosMode.PgRestart)
        {
            errors.Add("--outage needs --chaos pg-restart.");
        }
        else if (Outage is { } outage && (outage <= TimeSpan.Zero || outage > MaxOutage))
        {
            errors.Add($"--outage must be more than 0 and at most {LoadDuration.Format(MaxOutage)} (got {LoadDuration.Format(outage)}).");
        }
        else if (EffectiveOutage is { } down && EffectiveChaosAt is { } from && Duration is { } total && from + down >= total)
        {
            errors.Add($"PostgreSQL would still be down when the run ends ({LoadDuration.Format(from)} + --outage {LoadDuration.Format(down)} >= -t {LoadDuration.Format(total)}): " +
                "give a longer -t, an earlier --chaos-at or a shorter --outage.");
        }

        return errors;
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
