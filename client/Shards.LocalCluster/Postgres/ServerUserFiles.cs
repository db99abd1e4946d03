using Shards.Postgres;

namespace Shards.LocalCluster.Postgres;

/// <summary>
/// Files of the private PostgreSQL servers (the single one and the formation's): written readable by their owner
/// only, and, as root, handed to the <c>postgres</c> user the servers run as (initdb refuses root).
/// </summary>
internal static class ServerUserFiles
{
    /// <summary>The user the servers run as when Shards runs as root, and their superuser role.</summary>
    public const string SuperUser = "postgres";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Writes <paramref name="path"/> with mode 600 (an existing file is restricted before it is written).</summary>
    public static void WriteOwnerOnly(string path, string contents)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
            if (File.Exists(path))
            {
                File.SetUnixFileMode(path, OwnerOnly);
            }
        }

        using var writer = new StreamWriter(path, options);
        writer.Write(contents);
    }

    /// <summary>Restricts an existing file to its owner (mode 600).</summary>
    public static void RestrictToOwner(string path)
    {
        if (File.Exists(path) && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, OwnerOnly);
        }
    }

    /// <summary>As root, gives <paramref name="path"/> to the user the servers run as (otherwise it is that user's already).</summary>
    public static async Task HandToServerUserAsync(string path, CancellationToken cancellationToken)
    {
        if (Environment.IsPrivilegedProcess)
        {
            await ChownAsync([$"{SuperUser}:{SuperUser}", path], cancellationToken);
        }
    }

    public static async Task ChownAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var chown = await ProcessRunner.RunAsync("chown", arguments, TimeSpan.FromSeconds(30), cancellationToken);
        if (!chown.Succeeded)
        {
            throw new PostgresNotAvailableException(
                $"Could not run 'chown {string.Join(' ', arguments)}' ({chown.Diagnostics}). " +
                $"The Debian package creates the '{SuperUser}' user: {PostgresBinaries.InstallCommand}");
        }
    }

    /// <summary>
    /// As root: whether the servers' user can write to <paramref name="directory"/>; throws, naming
    /// <paramref name="directorySetting"/> (the environment variable that moves it), when it cannot.
    /// </summary>
    public static async Task RequireWritableByServerUserAsync(string directory, string directorySetting, string example, CancellationToken cancellationToken)
    {
        var reachable = await ProcessRunner.RunAsync("runuser", ["-u", SuperUser, "--", "test", "-w", directory], TimeSpan.FromSeconds(30), cancellationToken);
        if (!reachable.Succeeded)
        {
            throw new PostgresNotAvailableException(
                $"The '{SuperUser}' user cannot write to {directory} (a parent folder is private to root?). " +
                $"Set {directorySetting} to a folder it can reach, e.g. {example}.");
        }
    }
}
