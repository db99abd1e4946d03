using System.Diagnostics;
using Shards.LocalCluster;

namespace Shards.Tests.LocalCluster;

/// <summary>
/// The watchdog that cleans up a private PostgreSQL after its owner dies (<see cref="DetachedShell.StartWatchdog"/>):
/// it runs its cleanup when the owner dies without cleaning up, and leaves alone a folder that the owner deleted and a
/// new owner (the next bench run) created again at the same path before the watchdog's next poll.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class DetachedShellWatchdogTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"shards-watchdog-{Guid.NewGuid():N}");

    [Fact(Timeout = 30_000)]
    public async Task An_owner_that_dies_without_cleaning_up_has_its_folder_deleted()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, "server")).FullName;
        using var owner = StartOwner();
        DetachedShell.StartWatchdog(owner.Id, folder, $"rm -rf {DetachedShell.Quote(folder)}", "the test's watchdog");

        owner.Kill();
        await owner.WaitForExitAsync();

        Assert.True(await EventuallyAsync(() => !Directory.Exists(folder)), $"{folder} is still there 10 s after its owner died.");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_folder_made_again_after_the_owner_cleaned_up_is_left_alone()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, "server")).FullName;
        var marker = Path.Combine(_root, "cleanup-ran");
        using var owner = StartOwner();
        DetachedShell.StartWatchdog(
            owner.Id, folder, $"touch {DetachedShell.Quote(marker)}; rm -rf {DetachedShell.Quote(folder)}", "the test's watchdog");

        Directory.Delete(folder, recursive: true); // the owner's own cleanup...
        Directory.CreateDirectory(folder); // ...and the next run's server at the same path
        File.WriteAllText(Path.Combine(folder, "next-run"), "mine");
        owner.Kill();
        await owner.WaitForExitAsync();

        // The watchdog polls every second: give it three, then look for the marker its cleanup would have left.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(File.Exists(marker), "The watchdog ran its cleanup although its owner's folder was gone.");
        Assert.True(File.Exists(Path.Combine(folder, "next-run")), "The next run's folder was deleted by the previous owner's watchdog.");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_watchdog_armed_before_its_folder_exists_makes_it_and_cleans_it_up()
    {
        var folder = Path.Combine(_root, "not-yet");
        using var owner = StartOwner();
        DetachedShell.StartWatchdog(owner.Id, folder, $"rm -rf {DetachedShell.Quote(folder)}", "the test's watchdog");
        Assert.True(Directory.Exists(folder));

        owner.Kill();
        await owner.WaitForExitAsync();

        Assert.True(await EventuallyAsync(() => !Directory.Exists(folder)), $"{folder} is still there 10 s after its owner died.");
    }

    [Fact(Timeout = 30_000)]
    public async Task An_owner_that_deletes_the_token_disarms_its_watchdog()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, "nginx")).FullName;
        var marker = Path.Combine(_root, "cleanup-ran");
        using var owner = StartOwner();
        var token = DetachedShell.StartWatchdog(owner.Id, folder, $"touch {DetachedShell.Quote(marker)}", "the test's watchdog");

        File.Delete(token); // the owner stopped what the watchdog would have stopped, and kept the folder
        owner.Kill();
        await owner.WaitForExitAsync();

        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(File.Exists(marker), "The watchdog ran its cleanup although its owner had disarmed it.");
        Assert.True(Directory.Exists(folder));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static Process StartOwner() =>
        Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false }) ?? throw new InvalidOperationException("sleep did not start");

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return condition();
    }
}
