using Shards.Cli;

namespace Shards.Tests.Client;

/// <summary>The bash and zsh scripts of <c>shards completion</c>: they call the program back with the [suggest] directive.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class CompletionScriptsTests
{
    [Theory]
    [InlineData("bash", "complete -o default -F _shards_complete shards ./shards")]
    [InlineData("zsh", "compdef _shards shards ./shards")]
    public void Each_script_asks_the_program_for_suggestions_at_the_cursor_and_registers_both_spellings(string shell, string registration)
    {
        var script = CompletionScripts.For(shell, "'/opt/my shards/shards'");

        Assert.Contains("'/opt/my shards/shards' \"[suggest:${#line}]\" \"$line\"", script, StringComparison.Ordinal);
        Assert.Contains(registration, script, StringComparison.Ordinal);
    }

    [Fact]
    public void A_program_path_is_quoted_for_the_shell_whatever_it_contains()
    {
        Assert.Equal("'/home/o'\\''brien/shards'", CompletionScripts.Quote("/home/o'brien/shards"));
    }
}
