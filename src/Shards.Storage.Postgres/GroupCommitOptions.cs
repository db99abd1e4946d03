namespace Shards.Storage.Postgres;

/// <summary>Group commit of grain writes (section <c>Shards:Storage:GroupCommit</c>).</summary>
public sealed class GroupCommitOptions
{
    /// <summary>On by default; off, every write is its own transaction (Orleans' ADO.NET storage alone).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>At most this many writes share one transaction.</summary>
    public int MaxWritesPerCommit { get; set; } = 64;

    /// <summary>How many commits of one shard run at once (each on its own connection).</summary>
    public int Committers { get; set; } = 4;
}
