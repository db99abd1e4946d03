using Shards.LocalCluster;

namespace Shards.Tests.LocalCluster;

/// <summary>The local cluster's API key file: created private, and refused when others may read or change it.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class LocalApiKeyTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"shards-key-{Guid.NewGuid():N}");

    private string KeyFile => Path.Combine(_folder, "api-key");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void A_new_key_is_written_readable_by_its_owner_only_and_read_back_the_next_time()
    {
        var key = LocalApiKey.LoadOrCreate(KeyFile);

        Assert.Equal(64, key.Length);
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(KeyFile));
        Assert.Equal(key, LocalApiKey.LoadOrCreate(KeyFile));
    }

    [Theory]
    [InlineData(OwnerOnly | UnixFileMode.GroupRead)]
    [InlineData(OwnerOnly | UnixFileMode.OtherRead)]
    [InlineData(OwnerOnly | UnixFileMode.GroupWrite)]
    [InlineData(OwnerOnly | UnixFileMode.OtherWrite)]
    public void An_existing_key_that_others_may_read_or_change_is_refused_with_the_command_that_fixes_it(UnixFileMode mode)
    {
        Directory.CreateDirectory(_folder);
        File.WriteAllText(KeyFile, "0123456789abcdef\n");
        File.SetUnixFileMode(KeyFile, mode);

        var error = Assert.Throws<UnsafeSecretFileException>(() => LocalApiKey.LoadOrCreate(KeyFile));

        Assert.Contains(KeyFile, error.Message, StringComparison.Ordinal);
        Assert.Contains($"chmod 600 {KeyFile}", error.Message, StringComparison.Ordinal);
        Assert.Equal(mode, File.GetUnixFileMode(KeyFile)); // left as it was: the user decides
    }
}
