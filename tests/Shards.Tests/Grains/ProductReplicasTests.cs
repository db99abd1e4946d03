using Microsoft.Extensions.Time.Testing;
using Shards.Contracts.Catalog;
using Shards.Grains.Catalog;

namespace Shards.Tests.Grains;

[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ProductReplicasTests
{
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(1);
    private readonly FakeTimeProvider _time = new();
    private bool _mayServe = true;

    private ProductReplicas Replicas(int capacity = 100) => new(_time, () => _mayServe, capacity);

    private static ProductSnapshot Product(string sku, long version = 1) => new(sku, "Widget", 2m, 10, version);

    [Fact]
    public void A_copy_is_read_until_its_lease_runs_out_counted_from_when_it_was_asked_for()
    {
        var replicas = Replicas();
        var asked = replicas.Asking();
        _time.Advance(TimeSpan.FromMilliseconds(300)); // the grain's answer took 300 ms

        Assert.True(replicas.Keep("sku-1", Product("sku-1"), s_lease, asked));
        Assert.Equal(Product("sku-1"), replicas.TryRead("sku-1"));

        // The copy gives up 1 % of its lease against clocks of different rates: it lasts 990 ms from the ask.
        var copyLasts = s_lease * (1 - ProductReplicas.MaxClockRateDifference);
        Assert.Equal(TimeSpan.FromMilliseconds(990), copyLasts);
        _time.Advance(copyLasts - TimeSpan.FromMilliseconds(301));
        Assert.NotNull(replicas.TryRead("sku-1"));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(replicas.TryRead("sku-1"));
    }

    [Fact]
    public void A_revoked_copy_is_dropped_and_a_copy_asked_for_before_the_revocation_is_not_kept()
    {
        var replicas = Replicas();
        replicas.Keep("sku-1", Product("sku-1"), s_lease, replicas.Asking());
        var askedBefore = replicas.Asking();
        _time.Advance(TimeSpan.FromMilliseconds(1));

        replicas.Revoke("sku-1");

        Assert.Null(replicas.TryRead("sku-1"));
        Assert.False(replicas.Keep("sku-1", Product("sku-1"), s_lease, askedBefore)); // the answer may predate the change
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(replicas.Keep("sku-1", Product("sku-1", version: 2), s_lease, replicas.Asking()));
        Assert.Equal(2, replicas.TryRead("sku-1")!.Version);
    }

    [Fact]
    public void A_revocation_drops_only_its_own_product()
    {
        var replicas = Replicas();
        replicas.Keep("sku-1", Product("sku-1"), s_lease, replicas.Asking());
        replicas.Keep("sku-2", Product("sku-2"), s_lease, replicas.Asking());

        replicas.Revoke("sku-1");

        Assert.Null(replicas.TryRead("sku-1"));
        Assert.NotNull(replicas.TryRead("sku-2"));
    }

    [Fact]
    public void Copies_are_not_read_while_the_silo_may_not_serve_them()
    {
        var replicas = Replicas();
        replicas.Keep("sku-1", Product("sku-1"), s_lease, replicas.Asking());

        _mayServe = false;
        Assert.Null(replicas.TryRead("sku-1"));
        _mayServe = true;
        Assert.NotNull(replicas.TryRead("sku-1"));
    }

    [Fact]
    public void No_lease_or_a_lease_that_ran_out_on_the_way_keeps_nothing()
    {
        var replicas = Replicas();
        Assert.False(replicas.Keep("sku-1", Product("sku-1"), TimeSpan.Zero, replicas.Asking()));

        var asked = replicas.Asking();
        _time.Advance(s_lease);
        Assert.False(replicas.Keep("sku-1", Product("sku-1"), s_lease, asked));
        Assert.Null(replicas.TryRead("sku-1"));
        Assert.Equal(0, replicas.Count);
    }

    [Fact]
    public void A_full_silo_makes_room_from_copies_that_ran_out_and_otherwise_keeps_no_more()
    {
        var replicas = Replicas(capacity: 2);
        replicas.Keep("sku-1", Product("sku-1"), s_lease, replicas.Asking());
        replicas.Keep("sku-2", Product("sku-2"), s_lease, replicas.Asking());

        Assert.False(replicas.Keep("sku-3", Product("sku-3"), s_lease, replicas.Asking()));
        Assert.True(replicas.Keep("sku-2", Product("sku-2", version: 2), s_lease, replicas.Asking())); // a product it keeps already

        _time.Advance(s_lease);
        Assert.True(replicas.Keep("sku-3", Product("sku-3"), s_lease, replicas.Asking()));
        Assert.Equal(1, replicas.Count);
    }

    [Theory]
    [InlineData("00:00:00.010", 1, "Duration")]
    [InlineData("00:01:00", 1, "Duration")]
    [InlineData("00:00:01", 0, "MaxCopiesPerSilo")]
    public void Bad_options_are_refused_naming_the_setting(string duration, int maxCopies, string setting)
    {
        var result = new ProductReadLeaseOptionsValidator().Validate(null, new ProductReadLeaseOptions
        {
            Duration = TimeSpan.Parse(duration, System.Globalization.CultureInfo.InvariantCulture),
            MaxCopiesPerSilo = maxCopies,
        });

        Assert.True(result.Failed);
        Assert.Contains($"Shards:ReadLeases:{setting}", result.FailureMessage);
    }

    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.True(new ProductReadLeaseOptionsValidator().Validate(null, new ProductReadLeaseOptions()).Succeeded);
    }
}

[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ProductReplicasMetricsTests
{
    [Fact]
    public void Reads_by_source_copies_and_revocations_are_observed()
    {
        using var meters = new TestMeterFactory();
        var time = new FakeTimeProvider();
        var replicas = new ProductReplicas(time, () => true, 10, meters);
        var product = new ProductSnapshot("sku-1", "Widget", 2m, 10, 1);
        replicas.CountGrainRead();
        replicas.Keep("sku-1", product, TimeSpan.FromSeconds(1), replicas.Asking());
        replicas.TryRead("sku-1");
        replicas.TryRead("sku-1");
        replicas.Revoke("sku-1");
        replicas.TryRead("sku-1"); // gone: not a read from a copy

        var observed = Observe(meters);

        Assert.Equal(2, observed[(ProductReplicas.Reads, "copy")]);
        Assert.Equal(1, observed[(ProductReplicas.Reads, "grain")]);
        Assert.Equal(0, observed[(ProductReplicas.Copies, null)]);
        Assert.Equal(1, observed[(ProductReplicas.Revoked, null)]);
    }

    private static Dictionary<(string, string?), long> Observe(TestMeterFactory meters)
    {
        var observed = new Dictionary<(string, string?), long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (meters.Created.Contains(instrument.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(System.Diagnostics.Metrics.Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            observed[(instrument.Name, tags.Length == 0 ? null : tags[0].Value as string)] = value;
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.Start();
        listener.RecordObservableInstruments();
        return observed;
    }

    private sealed class TestMeterFactory : System.Diagnostics.Metrics.IMeterFactory
    {
        public List<System.Diagnostics.Metrics.Meter> Created { get; } = [];

        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options)
        {
            var meter = new System.Diagnostics.Metrics.Meter(options.Name, options.Version, options.Tags, scope: this);
            Created.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var meter in Created)
            {
                meter.Dispose();
            }
        }
    }
}
