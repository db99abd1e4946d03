using Orleans.Runtime;

namespace Shards.Api.Endpoints;

/// <summary>
/// String-keyed grain references for the API's routes without the lookup Orleans' <c>GetGrain&lt;T&gt;(string)</c> makes
/// on every call: it resolves <c>T</c>'s grain interface type from <c>T</c>'s attributes each time (reflection, a few
/// microseconds of every HTTP request in the profile, docs/BENCHMARKS.md). The grain type and interface type of
/// <c>T</c> are taken once from the reference Orleans itself returns, then reused: they follow from the types' own
/// attributes, so they are the same for every silo and client of the process, and the reference is the one
/// <c>GetGrain&lt;T&gt;(key)</c> would have made (same grain ID, same interface).
/// </summary>
internal static class GrainKeys
{
    /// <summary>The reference to grain <typeparamref name="T"/> with key <paramref name="key"/>.</summary>
    public static T ByKey<T>(this IGrainFactory grains, string key)
        where T : IGrainWithStringKey
    {
        if (Known<T>.Types is not { } types)
        {
            var reference = grains.GetGrain<T>(key);
            if (reference is GrainReference made)
            {
                Known<T>.Types = new GrainTypes(made.GrainId.Type, made.InterfaceType);
            }

            return reference;
        }

        return (T)grains.GetGrain(GrainId.Create(types.Grain, key), types.Interface);
    }

    private sealed record GrainTypes(GrainType Grain, GrainInterfaceType Interface);

    private static class Known<T>
    {
        public static volatile GrainTypes? Types;
    }
}
