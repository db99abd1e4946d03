namespace Shards.Hashing;

/// <summary>
/// Maps a grain to the shard (database) that holds its state: a consistent-hash ring with virtual nodes.
/// Each shard owns <see cref="VirtualNodes"/> points on a 64-bit ring, at <c>ShardHash("NAME#i")</c>; a grain belongs
/// to the first point at or after <c>ShardHash(grain id)</c>, wrapping around. The result depends only on the set of
/// shard names and the virtual node count (not on their order, the process or the machine), and adding or removing
/// a shard moves only the keys of the arcs it gains or loses (about 1/N of them), which is what online
/// resharding needs. Pure: no Orleans, no database.
/// </summary>
public sealed class ShardRouter
{
    /// <summary>The algorithm's name as the stored shard map records it; a different algorithm needs a new name.</summary>
    public const string Algorithm = "xxhash64-ring";

    /// <summary>Points per shard. 512 keeps each shard's ring share within about 5 % of fair for 2-8 shards (256: 10 %).</summary>
    public const int DefaultVirtualNodes = 512;

    private const double RingSize = 18446744073709551616.0; // 2^64

    private readonly ulong[] _points;
    private readonly int[] _owners;

    public ShardRouter(IEnumerable<string> shardNames, int virtualNodes = DefaultVirtualNodes)
    {
        ArgumentNullException.ThrowIfNull(shardNames);
        Shards = shardNames.Order(StringComparer.Ordinal).ToArray();
        if (Shards.Count == 0)
        {
            throw new ArgumentException("A shard router needs at least one shard.", nameof(shardNames));
        }

        if (Shards.Distinct(StringComparer.Ordinal).Count() != Shards.Count)
        {
            throw new ArgumentException($"Shard names must be unique: {string.Join(", ", Shards)}.", nameof(shardNames));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(virtualNodes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(virtualNodes, 65536);
        VirtualNodes = virtualNodes;

        // Ties (two equal points, astronomically rare) are broken by shard name, so the ring stays deterministic.
        var points = new List<(ulong Point, int Owner)>(Shards.Count * virtualNodes);
        for (var owner = 0; owner < Shards.Count; owner++)
        {
            for (var node = 0; node < virtualNodes; node++)
            {
                points.Add((ShardHash.Of($"{Shards[owner]}#{node}"), owner));
            }
        }

        points.Sort((a, b) => a.Point != b.Point ? a.Point.CompareTo(b.Point) : a.Owner.CompareTo(b.Owner));
        _points = points.Select(p => p.Point).ToArray();
        _owners = points.Select(p => p.Owner).ToArray();
    }

    /// <summary>The shard names, in ordinal order.</summary>
    public IReadOnlyList<string> Shards { get; }

    public int VirtualNodes { get; }

    /// <summary>The shard holding the state of the grain whose id text (Orleans' <c>type/key</c>) is given.</summary>
    public string ShardFor(string grainId) => Shards[_owners[PointIndex(ShardHash.Of(grainId))]];

    /// <summary>Each shard's exact share of the ring (0-1): the expected fraction of keys it holds.</summary>
    public IReadOnlyDictionary<string, double> RingShares()
    {
        var shares = new double[Shards.Count];
        for (var i = 0; i < _points.Length; i++)
        {
            // Point i owns the arc (previous point, point i]; the first point also owns the wrap-around arc.
            var arc = i == 0 ? (double)_points[0] + (RingSize - _points[^1]) : _points[i] - _points[i - 1];
            shares[_owners[i]] += arc / RingSize;
        }

        return Shards.Select((name, i) => (name, shares[i])).ToDictionary(x => x.name, x => x.Item2, StringComparer.Ordinal);
    }

    /// <summary>The first point at or after <paramref name="hash"/>, wrapping to the first point of the ring.</summary>
    private int PointIndex(ulong hash)
    {
        int low = 0, high = _points.Length;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (_points[middle] < hash)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low == _points.Length ? 0 : low;
    }
}
