using Shards.Postgres;

namespace Shards.LocalCluster.Postgres;

/// <summary>Finds the PostgreSQL server programs (initdb, pg_ctl) on this machine.</summary>
public sealed record PostgresBinaries(string BinDirectory)
{
    /// <summary>The command a Debian user runs to get the binaries.</summary>
    public const string InstallCommand = "sudo apt-get install -y postgresql";

    public string InitDb => Path.Combine(BinDirectory, "initdb");

    public string PgCtl => Path.Combine(BinDirectory, "pg_ctl");

    /// <summary>
    /// The configured folder, else the newest /usr/lib/postgresql/N/bin (Debian keeps server binaries off PATH),
    /// else whatever folder on PATH has initdb.
    /// </summary>
    public static PostgresBinaries Locate(string? configuredBinDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(configuredBinDirectory))
        {
            return HasServerPrograms(configuredBinDirectory)
                ? new PostgresBinaries(configuredBinDirectory)
                : throw new PostgresNotAvailableException(
                    $"Shards:Postgres:BinDirectory is '{configuredBinDirectory}', but initdb and pg_ctl are not there.");
        }

        foreach (var candidate in Candidates())
        {
            if (HasServerPrograms(candidate))
            {
                return new PostgresBinaries(candidate);
            }
        }

        throw new PostgresNotAvailableException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin or on PATH. " +
            $"Install them with: {InstallCommand}   (or point ConnectionStrings__Shards at an existing PostgreSQL 15+).");
    }

    private static IEnumerable<string> Candidates()
    {
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var versions = Directory.GetDirectories(debianRoot)
                .Select(dir => (dir, version: int.TryParse(Path.GetFileName(dir), out var v) ? v : 0))
                .Where(x => x.version >= 15)
                .OrderByDescending(x => x.version);
            foreach (var (dir, _) in versions)
            {
                yield return Path.Combine(dir, "bin");
            }
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            yield return dir;
        }
    }

    private static bool HasServerPrograms(string dir) =>
        File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));
}
