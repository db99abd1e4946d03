namespace Shards.Hosting.Options;

/// <summary>How a Shards client connects (section <c>Shards:Client</c>).</summary>
public sealed class ShardsClientOptions
{
    public const string Section = "Shards:Client";

    /// <summary>How long to keep retrying the first connection while no silo is up, before failing clearly.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the client re-reads the live gateways from the membership table (Orleans' default is 1 min).</summary>
    public TimeSpan GatewayListRefreshPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long one attempt of a call may take. A call in flight to a silo that dies gets no answer (a gateway that
    /// forwarded it to the dead silo does not reject it): Orleans would let it wait 30 s. The retry filter re-sends it
    /// under the same request ID, so a write whose first attempt did land is applied once. Shorter means faster
    /// failover; the cost is a re-sent call when a healthy call is slower than this (e.g. a PostgreSQL stall).
    /// With <see cref="ResendOnGatewayLoss"/>, a killed silo's calls rarely wait for it: its closed connection is seen first.
    /// </summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Whether the calls in flight are resent at once when a gateway connection drops (the first sign of a killed
    /// silo), rather than each waiting out <see cref="ResponseTimeout"/>. Every call then in flight is resent, also
    /// those to healthy silos: writes carry a request ID, so a resent write is applied once. Off only to measure
    /// what it saves (<c>shards bench failover</c>).
    /// </summary>
    public bool ResendOnGatewayLoss { get; set; } = true;

    /// <summary>
    /// Once a call was resent because a gateway dropped, how long each further attempt may wait before it is sent again.
    /// Right after a silo dies, a surviving silo can hold a message in placement until the message's time to live (the
    /// response timeout) runs out; with a long <see cref="ResponseTimeout"/> that was the whole wait. Writes carry their
    /// request ID, so an attempt given up on this way is applied once.
    /// </summary>
    public TimeSpan ResendAttemptTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the client keeps retrying a call that failed because the cluster moved under it.</summary>
    public TimeSpan RetryBudget { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the client keeps retrying a call that failed because storage is unavailable (PostgreSQL down or
    /// refusing): a short blip is absorbed, a real outage is reported to the caller ("could not be stored ... Nothing
    /// changed") instead of holding the call for the whole outage.
    /// </summary>
    public TimeSpan StorageRetryBudget { get; set; } = TimeSpan.FromSeconds(5);
}
