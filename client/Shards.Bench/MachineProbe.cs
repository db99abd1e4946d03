using System.Reflection;
using System.Runtime.InteropServices;
using Npgsql;
using Shards.LocalCluster;

namespace Shards.Bench;

/// <summary>What the figures were measured on: cores, memory, kernel, .NET, PostgreSQL, Orleans, load average.</summary>
public static class MachineProbe
{
    /// <param name="database">The bench's PostgreSQL (its version is reported), or null when none is used.</param>
    public static async Task<BenchMachine> DescribeAsync(NpgsqlDataSource? database, CancellationToken cancellationToken)
    {
        var memoryKb = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : RuntimeInformation.OSDescription;
        string dotnet;
        try
        {
            var sdk = await ProcessRunner.RunAsync("dotnet", ["--version"], TimeSpan.FromSeconds(20), cancellationToken);
            dotnet = sdk.Succeeded ? $"SDK {sdk.StandardOutput.Trim()}, runtime {Environment.Version}" : $"runtime {Environment.Version}";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            dotnet = $"runtime {Environment.Version}";
        }

        var postgres = database is null ? "(not used)" : await PostgresVersionAsync(database, cancellationToken);
        var orleans = typeof(IGrainFactory).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+', ' ')[0].TrimEnd('.') ?? "?";
        return new BenchMachine(Environment.ProcessorCount, long.Parse(memoryKb, System.Globalization.CultureInfo.InvariantCulture) / 1024.0 / 1024.0, kernel, dotnet, postgres, orleans,
            LoadAverage());
    }

    /// <summary>The 1, 5 and 15 minute load averages, e.g. <c>1.54 3.68 7.03</c>.</summary>
    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static async Task<string> PostgresVersionAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        await using var query = database.CreateCommand("SHOW server_version");
        return (string)(await query.ExecuteScalarAsync(cancellationToken))!;
    }
}
