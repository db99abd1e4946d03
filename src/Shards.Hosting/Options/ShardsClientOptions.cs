namespace Shards.Hosting.Options;

/// <summary>How a Shards client connects (section <c>Shards:Client</c>).</summary>
public sealed class ShardsClientOptions
{
    public const string Section = "Shards:Client";

    /// <summary>How long to keep retrying the first connection while no silo is up, before failing clearly.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the client re-reads the live gateways from the membership table (Orleans' default is 1 min).</summary>
    public TimeSpan GatewayListRefreshPeriod { get; set; } = TimeSpan.FromSeconds(5);
}
