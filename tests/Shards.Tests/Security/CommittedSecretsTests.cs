using System.Text.Json;
using System.Text.RegularExpressions;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Security;

/// <summary>
/// Connection strings, passwords and API keys come only from the environment or user secrets: the settings files,
/// the compose file and .env.example of the repository hold none, and no certificate or key file is in it (the
/// git-ignored deploy/tls/, where scripts/make-cluster-cert.sh writes the compose cluster certificate, aside).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed partial class CommittedSecretsTests
{
    private static readonly string s_root = TestRepository.Root;

    public static IEnumerable<object[]> SettingsFiles()
    {
        var data = new List<object[]>();
        foreach (var file in SourceFiles().Where(f => f.EndsWith(".json", StringComparison.Ordinal) &&
                     (Path.GetFileName(f).StartsWith("appsettings", StringComparison.Ordinal) || f.EndsWith(".settings.json", StringComparison.Ordinal))))
        {
            data.Add([Path.GetRelativePath(s_root, file)]);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SettingsFiles))]
    public void A_settings_file_of_the_repository_holds_no_secret(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(s_root, file)), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });

        var secrets = Flatten(document.RootElement, string.Empty).Where(setting => IsSecretKey(setting.Key) && setting.Value.Length > 0).Select(s => s.Key).ToList();

        Assert.True(secrets.Count == 0, $"{file} holds secret settings: {string.Join(", ", secrets)}; give them through the environment or user secrets");
    }

    [Fact]
    public void The_repository_has_settings_files_to_check()
    {
        var files = SettingsFiles().Select(row => (string)row[0]).ToList();

        Assert.Contains(Path.Combine("silos", "Shards.Silo", "appsettings.json"), files);
    }

    [Fact]
    public void The_compose_file_takes_every_secret_from_the_environment()
    {
        var compose = File.ReadAllLines(Path.Combine(s_root, "docker-compose.yml"));
        var literal = compose
            .Select(line => SecretAssignment().Match(line))
            .Where(m => m.Success && !m.Groups["value"].Value.TrimStart('"').StartsWith("${", StringComparison.Ordinal))
            .Select(m => m.Value.Trim())
            .ToList();
        var inlinePasswords = compose.Where(line => InlinePassword().IsMatch(line)).ToList();

        Assert.True(literal.Count == 0, "literal secrets in docker-compose.yml: " + string.Join(" | ", literal));
        Assert.True(inlinePasswords.Count == 0, "a password written into a connection string of docker-compose.yml: " + string.Join(" | ", inlinePasswords));
    }

    [Fact]
    public void Env_example_holds_placeholders_only_and_real_secret_files_are_ignored_by_git()
    {
        var values = File.ReadAllLines(Path.Combine(s_root, ".env.example"))
            .Where(line => line.Contains('=', StringComparison.Ordinal) && !line.TrimStart().StartsWith('#'))
            .Select(line => line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim())
            .ToList();
        var ignored = File.ReadAllLines(Path.Combine(s_root, ".gitignore")).Select(l => l.Trim()).ToList();

        Assert.NotEmpty(values);
        Assert.All(values, value => Assert.StartsWith("change-me", value, StringComparison.Ordinal));
        Assert.Contains(ignored, line => line is ".env" or "/.env");
        Assert.Contains(ignored, line => line is ".shards/" or "/.shards/" or ".shards");
        Assert.Contains(ignored, line => line is "deploy/tls/" or "/deploy/tls/");
    }

    [Fact]
    public void No_certificate_or_private_key_file_is_in_the_repository()
    {
        string[] kinds = [".pfx", ".p12", ".pem", ".key", ".crt"];

        var found = SourceFiles().Where(f => kinds.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)).ToList();

        Assert.True(found.Count == 0, "certificate or key files: " + string.Join(", ", found));
    }

    private static bool IsSecretKey(string key) =>
        key.StartsWith("ConnectionStrings:", StringComparison.OrdinalIgnoreCase) ||
        key.StartsWith("Shards:Api:Keys", StringComparison.OrdinalIgnoreCase) ||
        key.EndsWith("ConnectionString", StringComparison.OrdinalIgnoreCase) ||
        key.Contains("Password", StringComparison.OrdinalIgnoreCase) ||
        key.Contains("Secret", StringComparison.OrdinalIgnoreCase) ||
        key.Contains("ApiKey", StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<KeyValuePair<string, string>> Flatten(JsonElement element, string prefix)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    foreach (var item in Flatten(property.Value, prefix.Length == 0 ? property.Name : $"{prefix}:{property.Name}"))
                    {
                        yield return item;
                    }
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray().SelectMany(e => Flatten(e, $"{prefix}:{index++}")))
                {
                    yield return item;
                }

                break;
            default:
                yield return new(prefix, element.ValueKind == JsonValueKind.Null ? string.Empty : element.ToString());
                break;
        }
    }

    /// <summary>Files of the checkout, without build output, git's folder and the local state folder.</summary>
    private static IEnumerable<string> SourceFiles()
    {
        var skipped = new HashSet<string>(StringComparer.Ordinal) { "bin", "obj", ".git", ".shards", "node_modules" };
        var pending = new Stack<string>([s_root]);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            foreach (var file in Directory.EnumerateFiles(folder))
            {
                yield return file;
            }

            // deploy/tls/ holds the compose cluster certificate scripts/make-cluster-cert.sh makes; git ignores it.
            foreach (var child in Directory.EnumerateDirectories(folder).Where(d => !skipped.Contains(Path.GetFileName(d)) &&
                         Path.GetRelativePath(s_root, d) != Path.Combine("deploy", "tls")))
            {
                pending.Push(child);
            }
        }
    }


    /// <summary>An environment entry of the compose file whose name says it is a secret: <c>NAME: value</c> or <c>NAME=value</c>.</summary>
    [GeneratedRegex(@"^\s*-?\s*(?<name>[A-Za-z_]*(PASSWORD|SECRET|API_KEY|Keys__\d+)[A-Za-z_0-9]*)\s*[:=]\s*(?<value>\S.*)$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretAssignment();

    /// <summary>A connection string with a literal password (not an environment reference).</summary>
    [GeneratedRegex(@"Password=(?!\$\{)[^;""]+", RegexOptions.IgnoreCase)]
    private static partial Regex InlinePassword();
}
