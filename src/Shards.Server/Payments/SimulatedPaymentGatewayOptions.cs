namespace Shards.Server.Payments;

/// <summary>
/// The rules of the simulated payment gateway (section <c>Shards:Payments:Simulated</c>). A payment token is a card
/// token; the rules pick the outcome from it and from the amount, so a test or a demo chooses what happens.
/// </summary>
public sealed class SimulatedPaymentGatewayOptions
{
    public const string Section = "Shards:Payments:Simulated";

    /// <summary>A token starting with this is declined ("card declined"), e.g. <c>tok-decline</c>, <c>tok-decline-stolen</c>.</summary>
    public string DeclinePrefix { get; set; } = "tok-decline";

    /// <summary>
    /// A token starting with this is charged, but the gateway never answers (the caller times out), e.g.
    /// <c>tok-timeout</c>: the hard case where the money may be taken while the caller cannot know it.
    /// </summary>
    public string TimeoutPrefix { get; set; } = "tok-timeout";

    /// <summary>A charge above this amount is declined ("over the card's limit").</summary>
    public decimal MaxApprovedAmount { get; set; } = 10_000m;

    /// <summary>How long every answer takes (a real gateway's latency).</summary>
    public TimeSpan ResponseDelay { get; set; } = TimeSpan.Zero;
}
