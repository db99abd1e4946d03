using Shards.Postgres;

namespace Shards.LocalCluster;

/// <summary>
/// Which membership row is one silo process: its advertised address, its silo port and its generation. Ports are
/// reused by restarts (and, across hosts, by other silos), so a port alone names no process; the generation tells a
/// restarted process from the one before it.
/// </summary>
public sealed record SiloIdentity(string Address, int Port, int Generation)
{
    /// <summary>The address every silo of a one-host <c>cluster up</c> advertises.</summary>
    public const string LoopbackAddress = "127.0.0.1";

    public static SiloIdentity Of(MembershipRow row) => new(row.Address, row.Port, row.Generation);

    public bool Is(MembershipRow row) => row.Address == Address && row.Port == Port && row.Generation == Generation;

    /// <summary>The newest row at <paramref name="address"/>:<paramref name="port"/> written by a process started at or after <paramref name="since"/>.</summary>
    public static MembershipRow? Newest(IEnumerable<MembershipRow> rows, string address, int port, DateTimeOffset since) =>
        rows.Where(r => r.Address == address && r.Port == port && r.StartTime >= since).MaxBy(r => r.Generation);

    public override string ToString() => $"{Address}:{Port}@{Generation}";
}
