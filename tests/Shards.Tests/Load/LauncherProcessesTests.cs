using Shards.LocalCluster;

namespace Shards.Tests.Load;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class LauncherProcessesTests
{
    [Theory]
    [InlineData("00000003000344f8", 15, true)]   // SIGTERM, as a .NET process catches it
    [InlineData("00000003000344f8", 12, false)]  // SIGUSR2 not handled: it would terminate the process
    [InlineData("0000000300034cf8", 12, true)]
    [InlineData("not hex", 12, false)]
    public void A_signal_mask_tells_which_signals_a_process_handles(string mask, int signal, bool caught)
    {
        Assert.Equal(caught, LauncherProcesses.CaughtIn(mask, signal));
    }

    [Fact]
    public void This_test_process_handles_SIGTERM_as_every_dotnet_process_does()
    {
        Assert.True(LauncherProcesses.Catches(Environment.ProcessId, 15));
    }
}
