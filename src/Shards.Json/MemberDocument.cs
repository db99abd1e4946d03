using System.Text.Json.Serialization;
using Orleans.Runtime;

namespace Shards.Json;

/// <summary>
/// One silo of the cluster, as <c>GET /api/members</c> and <c>shards members --json</c> show it. The first members are
/// what both know; the HTTP API reads them from the serving silo's membership snapshot, the CLI from the membership
/// table. What only one of them knows is left out by the other (not written as null).
/// </summary>
/// <param name="Name">The silo's name, e.g. <c>silo-2</c>.</param>
/// <param name="Address">Its silo endpoint, <c>ip:port</c>.</param>
/// <param name="Generation">Which start of the silo on that endpoint this is.</param>
/// <param name="SiloAddress">Orleans' text for the silo (<c>S</c>ip:port:generation), as <c>where</c>'s <c>silo</c> shows it.</param>
/// <param name="Status">Its membership status, camelCase: <c>active</c>, <c>joining</c>, <c>shuttingDown</c>, <c>dead</c>, ...</param>
public sealed record MemberDocument(string Name, string Address, int Generation, string SiloAddress, SiloStatus Status)
{
    /// <summary>HTTP only: true for the silo that answered this request.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? ServedThisRequest { get; init; }

    /// <summary>CLI only (membership table): the host the silo runs on.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? HostName { get; init; }

    /// <summary>CLI only (membership table): the port clients connect to.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? GatewayPort { get; init; }

    /// <summary>CLI only (membership table): when the silo started (UTC).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>CLI only (membership table): the silo's last I-am-alive write (UTC).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? IAmAliveTime { get; init; }

    /// <summary>CLI only (membership table): which silos suspect this one, and when.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SuspectTimes { get; init; }

    /// <summary>CLI only: the process ID, for a silo of the <c>shards cluster up</c> running from this folder.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Pid { get; init; }

    /// <summary>CLI only: the HTTP API's port, for a silo of the <c>shards cluster up</c> running from this folder.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? HttpPort { get; init; }
}

/// <summary>GET /api/members: the cluster as the serving silo sees it.</summary>
public sealed record MembersDocument(string ServedBy, long MembershipVersion, IReadOnlyList<MemberDocument> Members);
