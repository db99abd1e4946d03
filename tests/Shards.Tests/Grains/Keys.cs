namespace Shards.Tests.Grains;

/// <summary>Fresh grain keys, so tests sharing a cluster never see each other's grains.</summary>
internal static class Keys
{
    public static string New(string prefix) => $"{prefix}-{Guid.NewGuid():N}";
}
