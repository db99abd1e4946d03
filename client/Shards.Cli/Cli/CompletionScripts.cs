using System.Reflection;

namespace Shards.Cli;

/// <summary>
/// The shell side of tab completion. System.CommandLine answers <c>shards "[suggest:N]" "LINE"</c> with the words that
/// may follow at position N of LINE, one per line (commands, options, the allowed values of an option); the scripts
/// hand the line typed so far, without the program's own word, to that directive and offer what it prints.
/// </summary>
internal static class CompletionScripts
{
    public static IReadOnlyList<string> Shells { get; } = ["bash", "zsh"];

    /// <summary>How the scripts call this program back: the apphost, or <c>dotnet shards.dll</c> (quoted for a POSIX shell).</summary>
    public static string ThisProgram()
    {
        var process = Environment.ProcessPath ?? "shards";
        var assembly = Assembly.GetEntryAssembly()?.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" && !string.IsNullOrEmpty(assembly)
            ? $"{Quote(process)} {Quote(assembly)}"
            : Quote(process);
    }

    /// <summary>The script for <paramref name="shell"/> (bash or zsh) that asks <paramref name="program"/> for suggestions.</summary>
    public static string For(string shell, string program) => shell switch
    {
        "bash" => $$"""
            # shards tab completion for bash: eval "$(shards completion bash)" (e.g. in ~/.bashrc)
            _shards_complete()
            {
                local line="${COMP_LINE:0:COMP_POINT}"
                line="${line#"${COMP_WORDS[0]}"}"
                local IFS=$'\n'
                COMPREPLY=($({{program}} "[suggest:${#line}]" "$line" 2>/dev/null))
            }
            complete -o default -F _shards_complete shards ./shards

            """,
        "zsh" => $$"""
            # shards tab completion for zsh: eval "$(shards completion zsh)" in ~/.zshrc, after compinit
            _shards()
            {
                local line=" ${(j: :)words[2,CURRENT]}"
                local -a suggestions
                suggestions=(${(f)"$({{program}} "[suggest:${#line}]" "$line" 2>/dev/null)"})
                if (( ${#suggestions} )); then
                    compadd -Q -- "${suggestions[@]}"
                else
                    _files
                fi
            }
            compdef _shards shards ./shards

            """,
        _ => throw new ArgumentOutOfRangeException(nameof(shell), shell, $"No completion script for '{shell}': use {string.Join(" or ", Shells)}."),
    };

    /// <summary>A word for a POSIX shell: in single quotes, each single quote written as <c>'\''</c>.</summary>
    public static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
