namespace Shards.Tests.Infrastructure;

/// <summary>The checkout the tests run from: the folder above the test's output that holds Shards.sln.</summary>
public static class TestRepository
{
    private static readonly Lazy<string> s_root = new(Find);

    /// <summary>The repository's root folder.</summary>
    public static string Root => s_root.Value;

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shards.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Shards.sln not found above the test's folder.");
    }
}
