using Shards.Client.Cli;
using Shards.Client.Load;

namespace Shards.Tests.Load;

public class LoadOptionsTests
{
    [Theory]
    [InlineData("30s", 30)]
    [InlineData("2m", 120)]
    [InlineData("1h", 3600)]
    [InlineData("45", 45)]
    [InlineData("1.5", 1.5)]
    [InlineData("90S", 90)]
    [InlineData(" 10s ", 10)]
    public void Durations_are_written_like_siege(string text, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), LoadDuration.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("10x")]
    [InlineData("-5s")]
    [InlineData("1,5m")]
    [InlineData("ten")]
    public void A_malformed_duration_says_how_to_write_one(string text)
    {
        var error = Assert.Throws<FormatException>(() => LoadDuration.Parse(text));

        Assert.Contains("30s, 2m, 1h", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(30, "30s")]
    [InlineData(120, "2m")]
    [InlineData(7200, "2h")]
    [InlineData(1.5, "1.5s")]
    [InlineData(90, "90s")]
    public void Durations_print_in_their_shortest_form(double seconds, string expected)
    {
        Assert.Equal(expected, LoadDuration.Format(TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public void Without_t_or_r_a_run_lasts_30_seconds_and_the_defaults_are_valid()
    {
        var options = new LoadOptions().WithDefaults();

        Assert.Equal(TimeSpan.FromSeconds(30), options.Duration);
        Assert.Null(options.RequestsPerClient);
        Assert.Equal((25, 1000, 50, ChaosMode.None), (options.Concurrency, options.Keys, options.WritePercent, options.Chaos));
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void The_chaos_strikes_in_the_middle_of_a_timed_run_unless_told_when()
    {
        var middle = new LoadOptions { Duration = TimeSpan.FromSeconds(20), Chaos = ChaosMode.Kill };

        Assert.Equal(TimeSpan.FromSeconds(10), middle.EffectiveChaosAt);
        Assert.Equal(TimeSpan.FromSeconds(3), (middle with { ChaosAt = TimeSpan.FromSeconds(3) }).EffectiveChaosAt);
        Assert.Null((middle with { Chaos = ChaosMode.None }).EffectiveChaosAt);
    }

    public static TheoryData<LoadOptions, string> InvalidOptions => new()
    {
        { Timed with { Concurrency = 0 }, "-c/--concurrent must be between 1 and 1000" },
        { Timed with { Concurrency = 1001 }, "-c/--concurrent must be between 1 and 1000" },
        { Timed with { RequestsPerClient = 5 }, "either -t/--time or -r/--reps, not both" },
        { new LoadOptions(), "Give -t/--time or -r/--reps" },
        { Timed with { Duration = TimeSpan.Zero }, "-t/--time must be more than 0" },
        { Timed with { Duration = TimeSpan.FromHours(25) }, "at most 24h" },
        { new LoadOptions { RequestsPerClient = 0 }, "-r/--reps must be between 1" },
        { Timed with { Keys = 0 }, "--keys must be between 1 and 100000" },
        { Timed with { Keys = 100_001 }, "--keys must be between 1 and 100000" },
        { Timed with { WritePercent = -1 }, "--writes is a percentage" },
        { Timed with { WritePercent = 101 }, "--writes is a percentage" },
        { Timed with { ChaosAt = TimeSpan.FromSeconds(5) }, "--chaos-at needs --chaos kill, restart or pg-restart" },
        { Timed with { Outage = TimeSpan.FromSeconds(5) }, "--outage needs --chaos pg-restart" },
        { Timed with { Chaos = ChaosMode.PgRestart, Outage = TimeSpan.Zero }, "--outage must be more than 0" },
        { Timed with { Chaos = ChaosMode.PgRestart, ChaosAt = TimeSpan.FromSeconds(20) }, "PostgreSQL would still be down when the run ends" },
        { Timed with { Chaos = ChaosMode.Kill, ChaosAt = TimeSpan.Zero }, "--chaos-at must be more than 0" },
        { Timed with { Chaos = ChaosMode.Kill, ChaosAt = TimeSpan.FromSeconds(30) }, "must come before the end of the run" },
        { new LoadOptions { RequestsPerClient = 10, Chaos = ChaosMode.Restart }, "give --chaos-at too" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Invalid_options_are_rejected_with_a_message_naming_the_option(LoadOptions options, string expected)
    {
        Assert.Contains(options.Validate(), error => error.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_run_bounded_by_requests_with_a_chaos_moment_is_valid()
    {
        Assert.Empty(new LoadOptions { RequestsPerClient = 100, Chaos = ChaosMode.Kill, ChaosAt = TimeSpan.FromSeconds(2) }.Validate());
    }

    [Theory]
    [InlineData("load -t 10x", "'10x' is not a duration")]
    [InlineData("load -c many", "many")]
    [InlineData("load --chaos sometimes", "sometimes")]
    public void The_command_line_rejects_malformed_values_before_running(string arguments, string expected)
    {
        var result = ShardsCli.Build().Parse(arguments);

        Assert.Contains(result.Errors, error => error.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void The_command_line_reads_siege_style_options()
    {
        var result = ShardsCli.Build().Parse("load -c 7 -t 2m --keys 50 --writes 20 --chaos kill --chaos-at 30s");

        Assert.Empty(result.Errors);
        Assert.Equal(7, result.GetValue<int>("--concurrent"));
        Assert.Equal(TimeSpan.FromMinutes(2), result.GetValue<TimeSpan?>("--time"));
        Assert.Equal(ChaosMode.Kill, result.GetValue<ChaosMode>("--chaos"));
        Assert.Equal(TimeSpan.FromSeconds(30), result.GetValue<TimeSpan?>("--chaos-at"));
    }

    private static LoadOptions Timed => new() { Duration = TimeSpan.FromSeconds(30) };
}
