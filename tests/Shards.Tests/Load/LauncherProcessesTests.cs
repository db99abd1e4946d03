using Shards.LocalCluster;

namespace Shards.Tests.Load;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class LauncherProcessesTests
{
    [Theory]
    [InlineData("dotnet|/work/.shards/bin/shards.dll|cluster|up|--silos|3", "shards")]
    [InlineData("/usr/local/bin/shards|cluster|up", "shards")]
    [InlineData("bash|./shards|cluster|up", "shards")]
    [InlineData("dotnet|shards.dll|--cluster-id|blue|cluster|up", "blue")]
    [InlineData("dotnet|shards.dll|cluster|up|--cluster-id=green", "green")]
    public void A_cluster_up_command_line_is_a_launcher_of_its_cluster(string commandLine, string cluster)
    {
        Assert.Equal(cluster, LauncherProcesses.ClusterOf(commandLine.Split('|')));
    }

    [Theory]
    [InlineData("dotnet|shards.dll|load|-t|30s")]
    [InlineData("dotnet|shards.dll|cluster")]
    [InlineData("dotnet|Shards.Silo.dll|--Shards:Silo:Name=silo-1")]
    [InlineData("grep|cluster|up")]
    public void Other_command_lines_are_not_launchers(string commandLine)
    {
        Assert.Null(LauncherProcesses.ClusterOf(commandLine.Split('|')));
    }

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
