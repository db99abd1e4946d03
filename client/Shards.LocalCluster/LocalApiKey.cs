using System.Security.Cryptography;

namespace Shards.LocalCluster;

/// <summary>
/// The API key of a local cluster: created once by <c>shards cluster up</c> in <c>.shards/api-key</c> (git ignores
/// <c>.shards/</c>), readable by its owner only (mode 600), and given to the silos through their environment.
/// </summary>
public static class LocalApiKey
{
    public static readonly string DefaultPath = Path.Combine(".shards", "api-key");

    private const UnixFileMode OthersAccess =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    /// <summary>
    /// The key in <paramref name="path"/>; a new random one (256 bits, hex) written there when it is missing or empty.
    /// Throws <see cref="UnsafeSecretFileException"/> when the existing file is readable or writable by group or others.
    /// </summary>
    public static string LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & OthersAccess) != 0)
            {
                throw new UnsafeSecretFileException(
                    path,
                    $"The API key file {path} is readable or writable by other users (mode {Octal(File.GetUnixFileMode(path))}). " +
                    $"Restrict it to its owner with: chmod 600 {path}   (or delete it for a new key).");
            }

            var existing = File.ReadAllText(path).Trim();
            if (existing.Length > 0)
            {
                return existing;
            }

            File.Delete(path);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(path, options))
        {
            writer.WriteLine(key);
        }

        return key;
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0x1FF, 8);
}
