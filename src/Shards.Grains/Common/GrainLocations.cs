using Shards.Contracts.Common;

namespace Shards.Grains.Common;

/// <summary>Builds the <see cref="GrainLocation"/> a grain reports from <c>WhereAsync</c>.</summary>
internal static class GrainLocations
{
    public static GrainLocation Of(IGrainBase grain, ILocalSiloDetails silo, DateTimeOffset activatedAt) =>
        new(grain.GrainContext.GrainId.ToString(), silo.SiloAddress.ToString(), silo.Name, activatedAt);
}
