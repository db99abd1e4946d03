using System.Collections.Concurrent;
using Orleans.TestingHost;
using Shards.Client;

namespace Shards.Tests.Client;

/// <summary>
/// The client cancels calls itself to resend them (a gateway connection dropped, a resent attempt ran past its limit).
/// Orleans would tell each call's target; a notice that finds nothing to cancel keeps the target's activation busy
/// for up to 3 s, which held up the deactivation of survivors' activations after a silo died (their callers waited
/// ~3 s). Those notices must not be sent; a caller's own cancellation still must.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ResendCancellationTests : IAsyncLifetime
{
    private static readonly TimeSpan s_hang = TimeSpan.FromSeconds(10);
    private readonly NoticeSpy _offered = new(afterTheCall: true);
    private readonly NoticeSpy _passed = new(afterTheCall: false);
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureClient(client =>
        {
            client.AddOutgoingGrainCallFilter(_offered); // before Shards' filters: every notice Orleans sends, once they are done with it
            client.AddShardsCallResilience(new ShardsClientOptions());
            client.AddOutgoingGrainCallFilter(_passed); // after them: the notices they let through to the target
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_call_the_client_cancels_to_resend_it_sends_no_cancellation_notice_to_its_target()
    {
        var (probe, call, source) = await HoldAsync();

        ResendCancellation.Cancel(source);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(s_hang));
        await _offered.Seen.WaitAsync(s_hang); // Orleans did send a notice, and Shards' filter has decided on it

        Assert.False(_passed.Seen.IsCompleted, "the notice went on to the target");
        Assert.False(probe.Cancelled.Task.IsCompleted);
        probe.Release.TrySetResult();
    }

    [Fact]
    public async Task A_call_its_caller_cancels_still_tells_its_target()
    {
        var (probe, call, source) = await HoldAsync();

        await source.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(s_hang));
        await probe.Cancelled.Task.WaitAsync(s_hang);
        await Task.WhenAll(_offered.Seen, _passed.Seen).WaitAsync(s_hang); // both spies see a notice: what the test above relies on
        probe.Release.TrySetResult();
    }

    /// <summary>A call to a probe grain that holds it until released; returns once the grain is running it.</summary>
    private async Task<(CancellationProbe Probe, Task Call, CancellationTokenSource Source)> HoldAsync()
    {
        var id = Guid.NewGuid();
        var probe = CancellationProbeGrain.Probes.GetOrAdd(id, _ => new CancellationProbe());
        var source = new CancellationTokenSource();
        var call = _cluster.Client.GetGrain<ICancellationProbeGrain>(id).HoldAsync(source.Token);
        await probe.Started.Task.WaitAsync(s_hang);
        return (probe, call, source);
    }
}

/// <summary>
/// Sees Orleans' cancellation notices (<see cref="ResendCancellation.IsNotice"/>) on their way out of the client:
/// <see cref="Seen"/> completes at the first one, once the filters after this one are done with it
/// (<paramref name="afterTheCall"/>) or as soon as it gets here.
/// </summary>
public sealed class NoticeSpy(bool afterTheCall) : IOutgoingGrainCallFilter
{
    private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Seen => _seen.Task;

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (!ResendCancellation.IsNotice(context))
        {
            await context.Invoke();
            return;
        }

        if (!afterTheCall)
        {
            _seen.TrySetResult();
        }

        try
        {
            await context.Invoke();
        }
        finally
        {
            _seen.TrySetResult();
        }
    }
}

/// <summary>What a probe grain saw of one call: it started, its token was cancelled; the test releases it.</summary>
public sealed class CancellationProbe
{
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

[Alias("Shards.Tests.ICancellationProbeGrain")]
public interface ICancellationProbeGrain : IGrainWithGuidKey
{
    [Alias("Hold")]
    Task HoldAsync(CancellationToken cancellationToken);
}

/// <summary>Holds each call until the test releases it, recording whether the call's token was cancelled.</summary>
public sealed class CancellationProbeGrain : Grain, ICancellationProbeGrain
{
    public static ConcurrentDictionary<Guid, CancellationProbe> Probes { get; } = new();

    public async Task HoldAsync(CancellationToken cancellationToken)
    {
        var probe = Probes[this.GetPrimaryKey()];
        await using var noticed = cancellationToken.Register(() => probe.Cancelled.TrySetResult());
        probe.Started.TrySetResult();
        await probe.Release.Task.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None); // finishes whatever the token says, as Shards grains do
    }
}
