using Shards.Cli;
using Shards.Load;

namespace Shards.Tests.Load;

[Trait(TestCategories.Name, TestCategories.Unit)]
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
        Assert.Equal((25, 1000, 50, 10), (options.Concurrency, options.Keys, options.WritePercent, options.ProductPercent));
        Assert.Empty(options.Chaos);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void The_chaos_strikes_in_the_middle_of_a_timed_run_unless_told_when()
    {
        var middle = new LoadOptions { Duration = TimeSpan.FromSeconds(20), Chaos = [ChaosMode.Kill] };

        Assert.Equal(TimeSpan.FromSeconds(10), middle.EffectiveChaosAt);
        Assert.Equal(TimeSpan.FromSeconds(3), (middle with { ChaosAt = TimeSpan.FromSeconds(3) }).EffectiveChaosAt);
        Assert.Null((middle with { Chaos = [] }).EffectiveChaosAt);
    }

    [Fact]
    public void Several_nemeses_strike_one_after_the_other_over_the_middle_half_of_the_run()
    {
        var options = new LoadOptions { Duration = TimeSpan.FromSeconds(20), Chaos = [ChaosMode.Kill, ChaosMode.Freeze, ChaosMode.PgStall] };

        Assert.Equal(
            [(ChaosMode.Kill, TimeSpan.FromSeconds(5)), (ChaosMode.Freeze, TimeSpan.FromSeconds(10)), (ChaosMode.PgStall, TimeSpan.FromSeconds(15))],
            options.Strikes());
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Every_nemesis_together_fits_a_20_second_run_with_the_default_lengths_in_any_order()
    {
        // The one-server nemeses (the formation's and the network's need their own clusters, and fit the same way, below).
        ChaosMode[] oneServer = [ChaosMode.Kill, ChaosMode.Freeze, ChaosMode.Restart, ChaosMode.PgRestart, ChaosMode.PgStall, ChaosMode.Hot, ChaosMode.Reshard];
        var all = new LoadOptions { Duration = TimeSpan.FromSeconds(20), Chaos = oneServer };
        var reversed = all with { Chaos = oneServer.Reverse().ToList() };

        Assert.Empty(new LoadOptions { Duration = TimeSpan.FromSeconds(20), Chaos = Enum.GetValues<ChaosMode>() }.Validate());
        Assert.Empty(new LoadOptions { Duration = TimeSpan.FromSeconds(20), Chaos = Enum.GetValues<ChaosMode>().Reverse().ToList() }.Validate());
        Assert.Empty(all.Validate());
        Assert.Empty(reversed.Validate());
        Assert.Equal(TimeSpan.FromSeconds(3), all.LengthOf(ChaosMode.Freeze));
        Assert.Equal(TimeSpan.FromSeconds(5), all.EffectiveOutage); // strikes at 10 s: half of the 10 s left
        Assert.InRange(all.LengthOf(ChaosMode.Hot)!.Value.TotalSeconds, 3.3, 3.4); // strikes at 13.3 s: half of the 6.7 s left
        Assert.Equal(TimeSpan.FromSeconds(5), reversed.LengthOf(ChaosMode.Hot)); // strikes at 6.7 s
        Assert.Null(all.LengthOf(ChaosMode.Kill));
        Assert.Null(all.LengthOf(ChaosMode.Reshard));
    }

    [Fact]
    public void A_default_length_is_at_most_half_the_time_left_and_a_given_one_is_kept()
    {
        var run = new LoadOptions { Duration = TimeSpan.FromMinutes(2), Chaos = [ChaosMode.PgRestart] };

        Assert.Equal(TimeSpan.FromSeconds(20), run.EffectiveOutage);
        Assert.Equal(TimeSpan.FromSeconds(5), (run with { Duration = TimeSpan.FromSeconds(20) }).EffectiveOutage);
        Assert.Equal(TimeSpan.FromSeconds(8), (run with { Outage = TimeSpan.FromSeconds(8) }).EffectiveOutage);
        Assert.Null((run with { Chaos = [ChaosMode.Kill] }).EffectiveOutage);
        Assert.Equal(TimeSpan.FromSeconds(2), new LoadOptions { Duration = TimeSpan.FromSeconds(10), Chaos = [ChaosMode.Hot], ChaosAt = TimeSpan.FromSeconds(6) }.LengthOf(ChaosMode.Hot));
    }

    [Fact]
    public void Every_nemesis_with_the_network_ones_fits_a_20_second_run_with_the_default_lengths()
    {
        var all = new LoadOptions { Duration = TimeSpan.FromSeconds(20), Chaos = Enum.GetValues<ChaosMode>() };

        Assert.Empty(all.Validate());
        Assert.All(ChaosModes.Network, mode => Assert.True(all.StrikeOf(mode) + all.LengthOf(mode) < all.Duration));
        Assert.Equal(LoadOptions.DefaultFault, new LoadOptions { Duration = TimeSpan.FromMinutes(1), Chaos = [ChaosMode.Partition] }.LengthOf(ChaosMode.Partition));
        Assert.Equal(TimeSpan.FromSeconds(40), new LoadOptions { Duration = TimeSpan.FromMinutes(2), Chaos = [ChaosMode.Flap], FaultFor = TimeSpan.FromSeconds(40) }.LengthOf(ChaosMode.Flap));
    }

    [Theory]
    [InlineData("partition,isolate,one-way,loss,flap,latency", new[] { ChaosMode.Partition, ChaosMode.Isolate, ChaosMode.OneWay, ChaosMode.Loss, ChaosMode.Flap, ChaosMode.Latency })]
    [InlineData("kill", new[] { ChaosMode.Kill })]
    [InlineData("kill,freeze,pg-stall", new[] { ChaosMode.Kill, ChaosMode.Freeze, ChaosMode.PgStall })]
    [InlineData(" Restart , PG-RESTART,hot,reshard ", new[] { ChaosMode.Restart, ChaosMode.PgRestart, ChaosMode.Hot, ChaosMode.Reshard })]
    [InlineData("pg-failover", new[] { ChaosMode.PgFailover })]
    [InlineData("PG-SWITCHOVER,pg-standby-kill", new[] { ChaosMode.PgSwitchover, ChaosMode.PgStandbyKill })]
    [InlineData("none", new ChaosMode[0])]
    public void Nemeses_are_a_comma_separated_list(string text, ChaosMode[] expected)
    {
        var (modes, errors) = ChaosModes.ParseList(text);

        Assert.Empty(errors);
        Assert.Equal(expected, modes);
    }

    [Theory]
    [InlineData("kill,sometimes", "unknown nemesis 'sometimes'; the nemeses are kill,freeze,restart,pg-restart,pg-stall,hot,reshard,pg-failover,pg-switchover,pg-standby-kill")]
    [InlineData("kill,kill", "lists kill twice")]
    [InlineData("none,kill", "--chaos none stands alone")]
    public void A_bad_nemesis_list_says_what_is_wrong(string text, string expected)
    {
        var (_, errors) = ChaosModes.ParseList(text);

        Assert.Contains(errors, error => error.Contains(expected, StringComparison.Ordinal));
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
        { Timed with { ProductPercent = 101 }, "--products is a percentage" },
        { Timed with { ChaosAt = TimeSpan.FromSeconds(5) }, "--chaos-at needs --chaos" },
        { Timed with { Outage = TimeSpan.FromSeconds(5) }, "--outage needs --chaos pg-restart, pg-failover or pg-standby-kill" },
        { Timed with { Outage = TimeSpan.FromSeconds(5), Chaos = [ChaosMode.PgSwitchover] }, "--outage needs --chaos pg-restart, pg-failover or pg-standby-kill" },
        { Timed with { Chaos = [ChaosMode.PgFailover], ChaosAt = TimeSpan.FromSeconds(20), Outage = TimeSpan.FromSeconds(15) }, "The killed PostgreSQL node would still be down when the run ends (pg-failover at 20s + --outage 15s" },
        { Timed with { Chaos = [ChaosMode.PgStandbyKill], Outage = TimeSpan.Zero }, "--outage must be more than 0" },
        { Timed with { FreezeFor = TimeSpan.FromSeconds(5) }, "--freeze-for needs --chaos freeze" },
        { Timed with { StallFor = TimeSpan.FromSeconds(5), Chaos = [ChaosMode.Kill] }, "--stall-for needs --chaos pg-stall" },
        { Timed with { HotFor = TimeSpan.FromSeconds(5) }, "--hot-for needs --chaos hot" },
        { Timed with { Chaos = [ChaosMode.PgRestart], Outage = TimeSpan.Zero }, "--outage must be more than 0" },
        { Timed with { Chaos = [ChaosMode.PgRestart], ChaosAt = TimeSpan.FromSeconds(20), Outage = TimeSpan.FromSeconds(20) }, "PostgreSQL would still be down when the run ends" },
        { Timed with { Chaos = [ChaosMode.PgStall], StallFor = TimeSpan.FromSeconds(15) }, "PostgreSQL would still be stopped when the run ends (pg-stall at 15s + --stall-for 15s" },
        { Timed with { Chaos = [ChaosMode.Kill, ChaosMode.Freeze], FreezeFor = TimeSpan.FromSeconds(8) }, "The silo would still be frozen" },
        { Timed with { Chaos = [ChaosMode.Hot], HotFor = TimeSpan.FromMinutes(1) }, "The clients would still be on one key" },
        { Timed with { Chaos = [ChaosMode.Kill], FaultFor = TimeSpan.FromSeconds(5) }, "--fault-for needs a network nemesis" },
        { Timed with { Chaos = [ChaosMode.Partition], FaultFor = TimeSpan.FromSeconds(15) }, "The network fault would still be there when the run ends (partition at 15s + --fault-for 15s" },
        { Timed with { Chaos = [ChaosMode.Loss], FaultFor = TimeSpan.Zero }, "--fault-for must be more than 0" },
        { Timed with { Chaos = [ChaosMode.Kill], ChaosAt = TimeSpan.Zero }, "--chaos-at must be more than 0" },
        { Timed with { Chaos = [ChaosMode.Kill], ChaosAt = TimeSpan.FromSeconds(30) }, "must come before the end of the run" },
        { Timed with { Chaos = [ChaosMode.Kill, ChaosMode.Hot], ChaosAt = TimeSpan.FromSeconds(3) }, "--chaos-at times a single nemesis" },
        { Timed with { Chaos = [ChaosMode.Kill, ChaosMode.Kill] }, "lists a nemesis twice" },
        { new LoadOptions { RequestsPerClient = 10, Chaos = [ChaosMode.Restart] }, "give --chaos-at too" },
        { new LoadOptions { RequestsPerClient = 10, Chaos = [ChaosMode.Restart, ChaosMode.Kill] }, "give -t/--time instead" },
        { new LoadOptions { RequestsPerClient = 10, Chaos = [ChaosMode.Reshard], ChaosAt = TimeSpan.FromSeconds(1) }, "--chaos reshard needs -t/--time" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Invalid_options_are_rejected_with_a_message_naming_the_option(LoadOptions options, string expected)
    {
        Assert.Contains(options.Validate(), error => error.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void The_formation_nemeses_keep_a_killed_node_down_for_the_outage_and_heal_in_time()
    {
        var failover = Timed with { Chaos = [ChaosMode.PgFailover] };

        Assert.Empty(failover.Validate());
        Assert.Equal(LoadOptions.DefaultNodeDown, (failover with { Duration = TimeSpan.FromMinutes(1) }).LengthOf(ChaosMode.PgFailover));
        Assert.Equal(TimeSpan.FromSeconds(4), (failover with { Outage = TimeSpan.FromSeconds(4) }).LengthOf(ChaosMode.PgFailover));
        Assert.Equal(TimeSpan.FromSeconds(4), (Timed with { Chaos = [ChaosMode.PgStandbyKill], Outage = TimeSpan.FromSeconds(4) }).LengthOf(ChaosMode.PgStandbyKill));
        Assert.Null((Timed with { Chaos = [ChaosMode.PgSwitchover] }).LengthOf(ChaosMode.PgSwitchover));
        Assert.Null((failover with { Outage = TimeSpan.FromSeconds(4) }).EffectiveOutage); // pg-restart's, not this one's
    }

    [Fact]
    public void A_run_bounded_by_requests_with_a_chaos_moment_is_valid()
    {
        Assert.Empty(new LoadOptions { RequestsPerClient = 100, Chaos = [ChaosMode.Kill], ChaosAt = TimeSpan.FromSeconds(2) }.Validate());
    }

    [Theory]
    [InlineData("load -t 10x", "'10x' is not a duration")]
    [InlineData("load -c many", "many")]
    [InlineData("load --chaos sometimes", "unknown nemesis 'sometimes'")]
    [InlineData("load --chaos kill,kill", "lists kill twice")]
    public void The_command_line_rejects_malformed_values_before_running(string arguments, string expected)
    {
        var result = ShardsCli.Build().Parse(arguments);

        Assert.Contains(result.Errors, error => error.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void The_command_line_reads_siege_style_options()
    {
        var result = ShardsCli.Build().Parse("load -c 7 -t 2m --keys 50 --writes 20 --products 5 --chaos kill --chaos-at 30s");

        Assert.Empty(result.Errors);
        Assert.Equal(7, result.GetValue<int>("--concurrent"));
        Assert.Equal(TimeSpan.FromMinutes(2), result.GetValue<TimeSpan?>("--time"));
        Assert.Equal(5, result.GetValue<int>("--products"));
        Assert.Equal([ChaosMode.Kill], result.GetValue<IReadOnlyList<ChaosMode>>("--chaos"));
        Assert.Equal(TimeSpan.FromSeconds(30), result.GetValue<TimeSpan?>("--chaos-at"));
    }

    [Fact]
    public void The_command_line_reads_a_list_of_nemeses_and_their_lengths()
    {
        var result = ShardsCli.Build().Parse("load -c 200 --keys 1 -t 20s --chaos kill,freeze,pg-stall --freeze-for 2s --stall-for 4s --hot-for 1s --outage 3s");

        Assert.Empty(result.Errors);
        Assert.Equal([ChaosMode.Kill, ChaosMode.Freeze, ChaosMode.PgStall], result.GetValue<IReadOnlyList<ChaosMode>>("--chaos"));
        Assert.Equal(TimeSpan.FromSeconds(2), result.GetValue<TimeSpan?>("--freeze-for"));
        Assert.Equal(TimeSpan.FromSeconds(4), result.GetValue<TimeSpan?>("--stall-for"));
        Assert.Equal(TimeSpan.FromSeconds(1), result.GetValue<TimeSpan?>("--hot-for"));
        Assert.Equal(TimeSpan.FromSeconds(3), result.GetValue<TimeSpan?>("--outage"));
        Assert.Empty(ShardsCli.Build().Parse("load").GetValue<IReadOnlyList<ChaosMode>>("--chaos")!);
    }

    private static LoadOptions Timed => new() { Duration = TimeSpan.FromSeconds(30) };
}
