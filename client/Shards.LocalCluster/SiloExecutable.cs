namespace Shards.LocalCluster;

/// <summary>Finds the silo program shipped beside the client (the client project references the silo project).</summary>
internal static class SiloExecutable
{
    public const string AssemblyName = "Shards.Silo";

    /// <summary>The program to run and the arguments that precede the silo's own.</summary>
    public static (string FileName, IReadOnlyList<string> Prefix) Resolve()
    {
        var baseDirectory = AppContext.BaseDirectory;
        var dll = Path.Combine(baseDirectory, AssemblyName + ".dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"The silo program {dll} is missing: build the solution (dotnet build Shards.sln).");
        }

        var appHost = Path.Combine(baseDirectory, AssemblyName);
        if (File.Exists(appHost) && !OperatingSystem.IsWindows())
        {
            return (appHost, []);
        }

        return (DotnetHost(), [dll]);
    }

    private static string DotnetHost()
    {
        var current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
    }
}
