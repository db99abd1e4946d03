namespace Shards.Grains.Common;

/// <summary>A value that may be given or not, where null is a value (e.g. "unlock the cart" vs "keep the lock").</summary>
internal readonly record struct Optional<T>(T Value)
{
    public bool HasValue { get; } = true;

    public static implicit operator Optional<T>(T value) => new(value);
}
