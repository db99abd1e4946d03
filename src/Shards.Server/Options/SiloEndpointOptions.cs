namespace Shards.Server.Options;

/// <summary>Where one silo listens (section <c>Shards:Silo</c>; command line <c>--Shards:Silo:SiloPort=11112</c>).</summary>
public sealed class SiloEndpointOptions
{
    public const string Section = "Shards:Silo";

    /// <summary>Name shown in the membership table and by <c>shards members</c>; defaults to <c>silo-PORT</c>.</summary>
    public string? Name { get; set; }

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port clients connect to.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Address other silos and clients use to reach this silo (what the membership table records).</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Address the sockets bind to: loopback by default, so nothing listens beyond this machine.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// When set, the silo stops gracefully once this process is gone: a launcher passes its own id so that its
    /// silos never outlive it (as a cluster master's workers do not).
    /// </summary>
    public int? ParentProcessId { get; set; }

    public string EffectiveName => string.IsNullOrWhiteSpace(Name) ? $"silo-{SiloPort}" : Name;
}
