using System.Diagnostics;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Processes;

/// <summary>The script of <c>shards completion bash</c>, sourced into a real bash: tab on a partial line offers what the CLI suggests.</summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class CompletionScriptProcessTests
{
    [Theory(Timeout = 120_000)]
    [InlineData("shards mem", "members")]
    [InlineData("./shards members pr", "prune")]
    [InlineData("shards members prune --ol", "--older-than")]
    [InlineData("shards completion ", "zsh")]
    public async Task Bash_completes_commands_and_options_by_asking_the_cli(string typed, string offered)
    {
        var script = await CliProcess.RunAsync(["completion", "bash"]);
        Assert.True(script.ExitCode == 0, script.Stderr);
        var file = Path.Combine(Path.GetTempPath(), $"shards-completion-{Guid.NewGuid():N}.bash");
        await File.WriteAllTextAsync(file, script.Stdout);
        try
        {
            var words = typed.Split(' ');
            var probe =
                $"source '{file}'; COMP_LINE='{typed}'; COMP_POINT={typed.Length}; COMP_WORDS=({string.Join(' ', words.Select(w => $"'{w}'"))}); " +
                $"COMP_CWORD={words.Length - 1}; _shards_complete; printf '%s\\n' \"${{COMPREPLY[@]}}\"";

            var offers = await BashAsync(probe);

            Assert.Contains(offered, offers.Split('\n'));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_shell_is_refused_naming_the_ones_there_are()
    {
        var run = await CliProcess.RunAsync(["completion", "fish"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("bash", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("zsh", run.Stderr, StringComparison.Ordinal);
    }

    private static async Task<string> BashAsync(string script)
    {
        var startInfo = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(script);
        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bash did not finish: {await stderr}");
        }

        Assert.True(process.ExitCode == 0, await stderr);
        return await stdout;
    }
}
