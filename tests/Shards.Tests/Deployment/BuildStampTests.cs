using System.Diagnostics;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Deployment;

/// <summary>
/// scripts/build-stamp.sh, which lets <c>./shards</c> skip the build when no source changed: run with bash against a
/// small tree in a temp folder (a fake <c>dotnet</c> on the PATH counts the builds).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class BuildStampTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"shards-stamp-{Guid.NewGuid():N}");

    public BuildStampTests()
    {
        Write("src/A/A.cs", "class A {}");
        Write("src/A/A.csproj", "<Project />");
        Write("client/Cli/appsettings.json", "{}");
        Write("Directory.Build.props", "<Project />");
        Write("src/A/obj/project.assets.json", "{}");
        Write("fake-bin/dotnet", "#!/usr/bin/env bash\necho build >> \"$BUILDS\"\nfor a in \"$@\"; do [ \"$prev\" = -o ] && touch \"$a/shards.dll\"; prev=\"$a\"; done\n");
        File.SetUnixFileMode(Path.Combine(_root, "fake-bin/dotnet"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public async Task The_first_call_builds_and_a_second_call_with_nothing_changed_does_not()
    {
        Assert.Equal(1, await BuildAsync());
        Assert.Equal(1, await BuildAsync());
    }

    [Theory]
    [InlineData("touch", "src/A/A.cs")]
    [InlineData("touch", "src/A/A.csproj")]
    [InlineData("touch", "client/Cli/appsettings.json")]
    [InlineData("touch", "Directory.Build.props")]
    [InlineData("add", "silos/S/New.cs")]
    [InlineData("add-old", "src/A/Copied.cs")]
    [InlineData("remove", "src/A/A.cs")]
    public async Task Any_source_change_builds_again(string change, string path)
    {
        Assert.Equal(1, await BuildAsync());
        var full = Path.Combine(_root, path);
        switch (change)
        {
            case "touch":
                File.SetLastWriteTimeUtc(full, DateTime.UtcNow); // touch: after the stamp of the build above
                break;
            case "add":
                Write(path, "class N {}");
                break;
            case "add-old":
                Write(path, "class C {}");
                File.SetLastWriteTimeUtc(full, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc)); // cp -p keeps an old time
                break;
            default:
                File.Delete(full);
                break;
        }

        Assert.Equal(2, await BuildAsync());
        Assert.Equal(2, await BuildAsync());
    }

    [Fact]
    public async Task Changes_under_obj_and_bin_and_to_other_files_do_not_build_again()
    {
        Assert.Equal(1, await BuildAsync());
        File.SetLastWriteTimeUtc(Path.Combine(_root, "src/A/obj/project.assets.json"), DateTime.UtcNow.AddSeconds(5));
        Write("src/A/bin/Release/x.json", "{}");
        Write("docs/readme.md", "text");

        Assert.Equal(1, await BuildAsync());
    }

    [Fact]
    public async Task A_failed_build_leaves_no_stamp_and_the_next_call_builds_again()
    {
        File.WriteAllText(Path.Combine(_root, "fail"), "");
        Write("fake-bin/dotnet", "#!/usr/bin/env bash\necho build >> \"$BUILDS\"\n[ -f \"$ROOT/fail\" ] && exit 1\nfor a in \"$@\"; do [ \"$prev\" = -o ] && touch \"$a/shards.dll\"; prev=\"$a\"; done\n");

        Assert.Equal(1, await BuildAsync(expectFailure: true));
        File.Delete(Path.Combine(_root, "fail"));
        Assert.Equal(2, await BuildAsync());
        Assert.Equal(2, await BuildAsync());
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Runs shards_build_if_changed once; the number of builds so far.</summary>
    private async Task<int> BuildAsync(bool expectFailure = false)
    {
        var script = Path.Combine(TestRepository.Root, "scripts", "build-stamp.sh");
        var builds = Path.Combine(_root, "builds");
        var start = new ProcessStartInfo("bash")
        {
            ArgumentList =
            {
                "-c",
                $"set -euo pipefail; shards_fail() {{ echo \"$*\" >&2; exit 1; }}; source '{script}'; " +
                $"shards_build_if_changed '{_root}' '{_root}/client/Cli/Cli.csproj' '{_root}/out'",
            },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.Environment["PATH"] = $"{Path.Combine(_root, "fake-bin")}:{Environment.GetEnvironmentVariable("PATH")}";
        start.Environment["BUILDS"] = builds;
        start.Environment["ROOT"] = _root;
        using var process = Process.Start(start)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True((process.ExitCode != 0) == expectFailure, $"exit {process.ExitCode}: {stderr}");
        return File.Exists(builds) ? File.ReadAllLines(builds).Length : 0;
    }

    private void Write(string path, string content)
    {
        var full = Path.Combine(_root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
    }
}
