namespace Shards.Client;

/// <summary>How a Shards client connects (section <c>Shards:Client</c>).</summary>
public sealed class ShardsClientOptions
{
    public const string Section = "Shards:Client";

    /// <summary>How long to keep retrying the first connection while no silo is up, before failing clearly.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often the client re-reads the live gateways from the membership table (Orleans' default is 1 min); one indexed
    /// query. A gateway whose silo was declared dead but whose connection does not drop (a silo isolated by the network:
    /// its packets vanish, no reset comes) keeps the calls the client routes through it until this read removes it:
    /// with 5 s the isolated silo's keys answered 7.7 s after the fault, with 1 s after 4.5-5.0 s (docs/partitions.md).
    /// 0.5 s: two single-table reads a second per client.
    /// </summary>
    public TimeSpan GatewayListRefreshPeriod { get; set; } = TimeSpan.FromMilliseconds(500);

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
    /// Once a call was resent because a gateway dropped or a silo was marked dead, how long each further attempt may
    /// wait before it is given up and sent again (each limit twice the last, up to <see cref="ResponseTimeout"/>);
    /// <see cref="TimeSpan.Zero"/> (the default): the response timeout alone. Set it when the response timeout is long:
    /// right after a death a surviving silo can hold a message in placement until its time to live (the response
    /// timeout) runs out. Off by default because, with the 1 s response timeout, a shorter limit gained nothing the
    /// membership death watch does not give, and in 3 of 15 probes-only SIGSTOP runs with a 0.25-1 s limit every client
    /// ended up waiting on one cart whose activation on a survivor had a request running for over 20 s (0 of 7 runs
    /// without it; the cause is not known). Writes carry their request ID, so an attempt given up on is applied once.
    /// </summary>
    public TimeSpan ResendAttemptTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How often the client reads the membership table's version to see a silo marked dead (then the calls in flight
    /// are resent, as on a gateway connection drop): the sign for silos the client has no connection to, e.g. one that
    /// joined seconds ago. One single-row query per period; <see cref="TimeSpan.Zero"/> turns it off.
    /// </summary>
    public TimeSpan DeathWatchPeriod { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long the client keeps retrying a call that failed because the cluster moved under it.</summary>
    public TimeSpan RetryBudget { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A request's deadline, from its first attempt: the retry budget plus one last attempt's response timeout, and a
    /// margin for the call in flight when the budget ran out. No grain applies a copy of the request after it
    /// (docs/exactly-once.md); at most <see cref="Contracts.Common.RequestIds.MaxLifetime"/>.
    /// </summary>
    public TimeSpan RequestLifetime => RetryBudget + ResponseTimeout + TimeSpan.FromSeconds(5) is var lifetime && lifetime < Contracts.Common.RequestIds.MaxLifetime
        ? lifetime
        : Contracts.Common.RequestIds.MaxLifetime;

    /// <summary>
    /// How long the client keeps retrying a call that failed because storage is unavailable (PostgreSQL down or
    /// refusing): a short blip is absorbed, a real outage is reported to the caller ("could not be stored ... Nothing
    /// changed") instead of holding the call for the whole outage.
    /// </summary>
    public TimeSpan StorageRetryBudget { get; set; } = TimeSpan.FromSeconds(5);
}
