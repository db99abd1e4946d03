namespace Shards.Grains.Payments;

/// <summary>How the payment service talks to its gateway (section <c>Shards:Payments</c>).</summary>
public sealed class PaymentOptions
{
    public const string Section = "Shards:Payments";

    /// <summary>A charge or refund the gateway has not answered by then timed out: the payment is TimedOut (and refunded by checkout).</summary>
    public TimeSpan GatewayTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
