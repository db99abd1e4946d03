using Microsoft.Extensions.Logging;

namespace Shards.Client;

/// <summary>
/// Trips when the client loses a gateway connection, which is the first thing a client sees of a killed silo: the
/// kernel closes a dead process's sockets at once, long before the cluster has voted the silo dead. The calls then in
/// flight hold a token from the tripped generation, so they stop waiting and <see cref="TransientRetryFilter"/> resends
/// them. Without it, a call whose request had reached the killed silo (directly, or forwarded by a surviving gateway,
/// which does not track forwarded calls) waits out the whole response timeout for an answer that never comes.
/// </summary>
internal sealed partial class GatewayLossSignal(ILogger<GatewayLossSignal> logger) : IClusterConnectionStatusObserver, IDisposable
{
    private CancellationTokenSource _generation = new();

    /// <summary>The token that the calls sent from now on wait with; cancelled at the next gateway loss.</summary>
    public CancellationToken Current => Volatile.Read(ref _generation).Token;

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        if (currentNumberOfGateways < previousNumberOfGateways)
        {
            LogGatewayLost(logger, currentNumberOfGateways);
            Trip();
        }
    }

    public void NotifyClusterConnectionLost()
    {
        LogGatewayLost(logger, 0);
        Trip();
    }

    /// <summary>
    /// Cancels the current generation: the calls in flight are resent. Also called on the other sign of a dead silo,
    /// its mark in the membership table (<see cref="MembershipDeathWatch"/>).
    /// </summary>
    public void Trip()
    {
        var tripped = Interlocked.Exchange(ref _generation, new CancellationTokenSource());

        // Orleans completes each cancelled call from the registration; run them off the connection's thread, and
        // without a cancellation notice to each call's target (see ResendCancellation).
        _ = Task.Run(() => ResendCancellation.Cancel(tripped));
    }

    public void Dispose() => _generation.Dispose();

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Lost a gateway connection ({GatewaysLeft} left): calls in flight are resent now rather than after the response timeout")]
    private static partial void LogGatewayLost(ILogger logger, int gatewaysLeft);
}
