namespace Shards.Storage;

/// <summary>One grain state as storage holds it: the grain's string key, the state, and when it was last written.</summary>
public sealed record StoredState<T>(string Key, T State, DateTimeOffset WrittenAt);

/// <summary>
/// Reads many grains' stored states at once, straight from storage and without activating them: for listings, which
/// must not wake every grain they show. What it answers is what storage acknowledged, as the grain's own read would
/// load it; cleared states are left out.
/// </summary>
public interface IStoredStateQuery
{
    /// <summary>
    /// States <paramref name="stateName"/> of grains of type <paramref name="grainType"/> whose key comes after
    /// <paramref name="after"/> (ordinal order; all when null), in that order, at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<StoredState<T>>> ByKeyAsync<T>(string stateName, string grainType, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// The <paramref name="limit"/> states <paramref name="stateName"/> written last that satisfy <paramref name="where"/>
    /// (all when null), newest first. It reads a bounded number of states: fewer may come back when most of the recent
    /// ones do not satisfy <paramref name="where"/>.
    /// </summary>
    Task<IReadOnlyList<StoredState<T>>> LatestAsync<T>(string stateName, string grainType, int limit, Func<T, bool>? where, CancellationToken cancellationToken);
}
