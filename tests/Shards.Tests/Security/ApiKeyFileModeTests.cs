using Shards.Cli.Core;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Security;

/// <summary><c>shards cluster up</c> refuses an API key file that other users may read, before it starts anything.</summary>
[Trait(TestCategories.Name, TestCategories.Process)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ApiKeyFileModeTests
{
    [Fact]
    public async Task Cluster_up_with_a_world_readable_api_key_is_a_clear_error_with_the_bad_input_exit_code()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"shards-key-cli-{Guid.NewGuid():N}");
        var keyFile = Path.Combine(folder, ".shards", "api-key");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(keyFile)!);
            await File.WriteAllTextAsync(keyFile, "0123456789abcdef\n");
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

            // A connection string no server answers: the key is checked before PostgreSQL is needed.
            var run = await CliProcess.RunAsync(
                ["cluster", "up", "--silos", "1", "--connection", "Host=127.0.0.1;Port=1;Database=none;Timeout=1"],
                timeout: TimeSpan.FromSeconds(60), workingDirectory: folder);

            Assert.Equal(ExitCodes.BadInput, run.ExitCode);
            Assert.Contains("chmod 600", run.Stderr, StringComparison.Ordinal);
            Assert.Contains(".shards/api-key", run.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
