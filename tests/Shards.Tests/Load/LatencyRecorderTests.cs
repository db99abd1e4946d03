using Shards.Load;

namespace Shards.Tests.Load;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class LatencyRecorderTests
{
    [Fact]
    public void An_empty_recorder_has_no_statistics()
    {
        var recorder = new LatencyRecorder();

        Assert.Null(recorder.Summarise());
        Assert.Null(recorder.PercentileMs(50));
    }

    [Fact]
    public void Small_values_are_exact_and_percentiles_use_the_nearest_rank()
    {
        var recorder = new LatencyRecorder();
        foreach (var micros in Enumerable.Range(1, 100))
        {
            recorder.RecordMicros(micros);
        }

        var times = recorder.Summarise()!;
        Assert.Equal(100, times.Count);
        Assert.Equal(0.0505, times.MeanMs, 6);
        Assert.Equal(0.050, times.P50Ms, 6);
        Assert.Equal(0.095, times.P95Ms, 6);
        Assert.Equal(0.099, times.P99Ms, 6);
        Assert.Equal(0.100, times.LongestMs, 6);
        Assert.Equal(0.001, times.ShortestMs, 6);
    }

    [Fact]
    public void Percentiles_of_large_values_are_within_one_percent()
    {
        var recorder = new LatencyRecorder();
        foreach (var ms in Enumerable.Range(1, 1000))
        {
            recorder.Record(TimeSpan.FromMilliseconds(ms));
        }

        Assert.Equal(500, recorder.PercentileMs(50)!.Value, 500 * 0.01);
        Assert.Equal(950, recorder.PercentileMs(95)!.Value, 950 * 0.01);
        Assert.Equal(990, recorder.PercentileMs(99)!.Value, 990 * 0.01);
        Assert.Equal(1000, recorder.PercentileMs(100)!.Value);
        Assert.Equal(1000, recorder.Summarise()!.LongestMs);
        Assert.Equal(1, recorder.Summarise()!.ShortestMs);
        Assert.Equal(500.5, recorder.Summarise()!.MeanMs, 6);
    }

    [Fact]
    public void A_single_sample_is_every_percentile()
    {
        var recorder = new LatencyRecorder();
        recorder.RecordMicros(12_345);

        var times = recorder.Summarise()!;
        Assert.All(new[] { times.P50Ms, times.P95Ms, times.P99Ms, times.LongestMs, times.ShortestMs }, value => Assert.Equal(12.345, value, 6));
    }

    [Fact]
    public void Percentiles_never_leave_the_recorded_range()
    {
        var recorder = new LatencyRecorder();
        recorder.RecordMicros(1_000_001);
        recorder.RecordMicros(1_000_003);

        Assert.InRange(recorder.PercentileMs(50)!.Value, 1000.001, 1000.003);
        Assert.InRange(recorder.PercentileMs(99)!.Value, 1000.001, 1000.003);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(1_000_003)]
    [InlineData(3_600_000_000)]
    [InlineData(long.MaxValue)]
    public void Every_value_falls_in_a_bucket_less_than_two_percent_wide(long micros)
    {
        var (low, high) = LatencyRecorder.BucketRange(LatencyRecorder.BucketIndex(micros));

        Assert.InRange(micros, low, high);
        Assert.True(high - low <= Math.Max(0, low / 64), $"bucket [{low}, {high}] is too wide");
    }

    [Fact]
    public void Buckets_are_contiguous()
    {
        for (var index = 1; index < LatencyRecorder.BucketIndex(long.MaxValue); index++)
        {
            Assert.Equal(LatencyRecorder.BucketRange(index - 1).High + 1, LatencyRecorder.BucketRange(index).Low);
        }
    }

    [Fact]
    public void Concurrent_recording_counts_every_sample()
    {
        var recorder = new LatencyRecorder();

        Parallel.For(0, 10_000, i => recorder.RecordMicros(i % 5_000));

        Assert.Equal(10_000, recorder.Count);
        Assert.Equal(0, recorder.Summarise()!.ShortestMs);
        Assert.Equal(4.999, recorder.Summarise()!.LongestMs, 6);
    }
}
