namespace Shards.Contracts;

/// <summary>The name of Shards' own meter: every Shards instrument (<c>shards.*</c>) is on it, in the API and in the silo.</summary>
public static class ShardsMeter
{
    public const string Name = "Shards";
}
