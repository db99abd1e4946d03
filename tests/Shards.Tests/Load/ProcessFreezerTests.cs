using System.Diagnostics;
using Shards.Load;
using Shards.LocalCluster;

namespace Shards.Tests.Load;

/// <summary>The SIGSTOP nemeses' plumbing against a throw-away <c>sleep</c> process (Linux only).</summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class ProcessFreezerTests : IDisposable
{
    private readonly Process _sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;

    public void Dispose()
    {
        PosixSignals.Send(_sleeper.Id, PosixSignals.SigCont);
        _sleeper.Kill();
        _sleeper.WaitForExit();
        _sleeper.Dispose();
    }

    [Fact]
    public void A_stopped_process_is_resumed_and_only_once_counted()
    {
        var freezer = new ProcessFreezer();

        Assert.True(freezer.Stop(_sleeper.Id));
        Assert.True(WaitUntil(() => LocalProcesses.IsStopped(_sleeper.Id)), "the process did not stop");
        Assert.Equal([_sleeper.Id], freezer.Stopped);

        Assert.Equal(1, freezer.Resume());
        Assert.True(WaitUntil(() => !LocalProcesses.IsStopped(_sleeper.Id)), "the process was not resumed");
        Assert.Equal(0, freezer.Resume());
        Assert.Empty(freezer.Stopped);
    }

    [Fact]
    public void The_watchdog_resumes_what_was_stopped_even_without_this_process_and_ends_on_resume()
    {
        var freezer = new ProcessFreezer();
        freezer.Stop(_sleeper.Id);

        freezer.ArmWatchdog(TimeSpan.FromSeconds(1));

        Assert.True(WaitUntil(() => LocalProcesses.IsStopped(_sleeper.Id)), "the process did not stop");
        Assert.True(WaitUntil(() => !LocalProcesses.IsStopped(_sleeper.Id), TimeSpan.FromSeconds(10)), "the watchdog did not resume the process");
        freezer.Resume();
        Assert.DoesNotContain(LocalProcesses.WithCommandLines(), p => p.Arguments.Any(a => a.Contains($"kill -CONT {_sleeper.Id}", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_process_that_is_gone_is_not_counted_as_stopped()
    {
        var freezer = new ProcessFreezer();

        Assert.False(freezer.Stop(int.MaxValue - 1));
        Assert.Empty(freezer.Stopped);
    }

    [Fact]
    public void Children_are_found_by_their_parent()
    {
        Assert.Contains(_sleeper.Id, LocalProcesses.ChildrenOf(Environment.ProcessId));
        Assert.DoesNotContain(Environment.ProcessId, LocalProcesses.ChildrenOf(_sleeper.Id));
    }

    [Theory]
    [InlineData("ready", true)]
    [InlineData("starting", false)]
    [InlineData("stopping", false)]
    public void Postgres_is_stalled_only_once_its_postmaster_says_ready(string status, bool found)
    {
        var data = Directory.CreateTempSubdirectory("pg-stall-");
        try
        {
            File.WriteAllLines(Path.Combine(data.FullName, "postmaster.pid"), [$"{_sleeper.Id}", data.FullName, "1", "5432", string.Empty, "127.0.0.1", "1 2", status]);

            Assert.Equal(found ? _sleeper.Id : null, PostgresStallChaos.RunningPostmaster(data.FullName));
            Assert.Null(PostgresStallChaos.RunningPostmaster(Path.Combine(data.FullName, "missing")));
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    private static bool WaitUntil(Func<bool> condition, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > (timeout ?? TimeSpan.FromSeconds(5)))
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }
}
