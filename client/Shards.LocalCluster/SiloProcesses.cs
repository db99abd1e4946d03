namespace Shards.LocalCluster;

/// <summary>A silo process running on this machine, found from its command line (ports 0 when not on it).</summary>
public sealed record LocalSiloProcess(int Pid, string Name, string ClusterId, int SiloPort, int HttpPort);

/// <summary>
/// Finds silo processes on this machine by their command line (<c>--Shards:Silo:Name=...</c>), so that
/// <c>shards kill</c> works from any terminal, whichever launcher started the silo.
/// </summary>
public static class SiloProcesses
{
    public static IReadOnlyList<LocalSiloProcess> Find(string clusterId)
    {
        var found = new List<LocalSiloProcess>();
        foreach (var (pid, arguments) in LocalProcesses.WithCommandLines())
        {
            if (!arguments.Any(a => a.Contains(SiloExecutable.AssemblyName, StringComparison.Ordinal)))
            {
                continue;
            }

            var name = Setting(arguments, "Shards:Silo:Name");
            var cluster = Setting(arguments, "Shards:Cluster:ClusterId") ?? "shards";
            if (name is not null && cluster == clusterId)
            {
                found.Add(new LocalSiloProcess(pid, name, cluster, Port(arguments, "Shards:Silo:SiloPort"), Port(arguments, "Shards:Api:Port")));
            }
        }

        return found;
    }

    private static int Port(string[] arguments, string key) => int.TryParse(Setting(arguments, key), out var port) ? port : 0;

    private static string? Setting(string[] arguments, string key)
    {
        var prefix = $"--{key}=";
        return arguments.FirstOrDefault(a => a.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..];
    }
}
