using System.IO.Hashing;
using System.Text;

namespace Shards.Hashing;

/// <summary>
/// The pinned hash that places grains and shards on the ring: XXH64 (seed 0) of the UTF-8 bytes of a text.
/// XXH64 is a published algorithm with reference test vectors, so every process, restart, machine and .NET version
/// computes the same value. Never <see cref="string.GetHashCode()"/>: it is randomised per process. Changing this
/// function moves almost every key to another shard, so it is part of the stored shard map's algorithm name.
/// </summary>
public static class ShardHash
{
    /// <summary>XXH64, seed 0, of the UTF-8 encoding of <paramref name="text"/>.</summary>
    public static ulong Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var maxBytes = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (maxBytes <= 512)
        {
            Span<byte> buffer = stackalloc byte[maxBytes];
            var length = Encoding.UTF8.GetBytes(text, buffer);
            return XxHash64.HashToUInt64(buffer[..length]);
        }

        return XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(text));
    }
}
