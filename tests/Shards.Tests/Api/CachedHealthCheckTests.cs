using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Shards.Api.Health;
using Shards.Api.Options;

namespace Shards.Tests.Api;

/// <summary>A costly readiness check runs once per cache window however many probes arrive, and a failed run is not kept.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class CachedHealthCheckTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly CountingCheck _check = new();

    [Fact]
    public async Task Probes_within_the_window_share_one_run_and_the_next_window_runs_it_again()
    {
        var cached = Cached(TimeSpan.FromSeconds(1));

        var first = await cached.CheckHealthAsync(new HealthCheckContext());
        _time.Advance(TimeSpan.FromMilliseconds(900));
        var second = await cached.CheckHealthAsync(new HealthCheckContext());
        _time.Advance(TimeSpan.FromMilliseconds(200));
        await cached.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, first.Status);
        Assert.Equal(first.Description, second.Description);
        Assert.Equal(2, _check.Runs);
    }

    [Fact]
    public async Task Probes_that_arrive_while_it_runs_wait_for_that_run()
    {
        var cached = Cached(TimeSpan.FromSeconds(1));
        _check.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var probes = Enumerable.Range(0, 50).Select(_ => cached.CheckHealthAsync(new HealthCheckContext())).ToList();
        _check.Gate.SetResult();
        var results = await Task.WhenAll(probes);

        Assert.Equal(1, _check.Runs);
        Assert.All(results, result => Assert.Equal(HealthStatus.Healthy, result.Status));
    }

    [Fact]
    public async Task A_run_that_threw_is_not_kept_and_a_zero_window_runs_every_time()
    {
        var cached = Cached(TimeSpan.Zero);
        _check.Throw = true;

        await Assert.ThrowsAsync<InvalidOperationException>(() => cached.CheckHealthAsync(new HealthCheckContext()));
        _check.Throw = false;
        await cached.CheckHealthAsync(new HealthCheckContext());
        await cached.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(3, _check.Runs);
    }

    private CachedHealthCheck<CountingCheck> Cached(TimeSpan window) =>
        new(_check, Microsoft.Extensions.Options.Options.Create(new ShardsApiOptions { ReadinessCache = window }), _time);

    private sealed class CountingCheck : IHealthCheck
    {
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public TaskCompletionSource? Gate { get; set; }

        public bool Throw { get; set; }

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var run = Interlocked.Increment(ref _runs);
            if (Gate is { } gate)
            {
                await gate.Task;
            }

            return Throw ? throw new InvalidOperationException("check failed") : HealthCheckResult.Healthy($"run {run}");
        }
    }
}
