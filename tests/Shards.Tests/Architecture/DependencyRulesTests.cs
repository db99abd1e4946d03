using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;

namespace Shards.Tests.Architecture;

/// <summary>
/// The dependency rules of docs/architecture.md, checked on the built assemblies (their metadata references, followed
/// through every assembly beside the tests) and on the silo's dependency manifest (Shards.Silo.deps.json, what
/// <c>dotnet build silos/Shards.Silo</c> puts in its output).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class DependencyRulesTests
{
    private static readonly string[] s_localTooling = ["Shards.LocalCluster", "Shards.Cli", "Shards.Cli.Core", "shards", "Shards.Load", "Shards.Bench", "Shards.History"];
    private static readonly string[] s_plotting = ["ScottPlot", "SkiaSharp", "HarfBuzzSharp"];
    private static readonly string[] s_siloSide = ["Shards.Grains", "Shards.Storage.Postgres", "Shards.Placement", "Shards.Server", "Shards.Api", "Shards.Silo"];
    private static readonly string[] s_hosting = ["Shards.Grains", "Shards.Server", "Shards.Api", "Shards.Silo"];
    private static readonly string[] s_orleans = ["Orleans."];
    private static readonly string[] s_npgsql = ["Npgsql"];
    // The web host (Orleans' own packages reference Microsoft.AspNetCore.Connections.Abstractions, which is not one).
    private static readonly string[] s_aspNetCore = ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Http", "Microsoft.AspNetCore.Routing", "Microsoft.AspNetCore.Server.Kestrel"];

    /// <summary>Each rule: an assembly, what it must never reach (name or name prefix ending in '.'), directly or through others.</summary>
    public static TheoryData<string, string, bool> Rules() => new()
    {
        // The store's rules and the hashing are plain .NET.
        { "Shards.Domain", Join(s_orleans, s_npgsql, ["Shards."]), true },
        { "Shards.Hashing", Join(s_orleans, s_npgsql, ["Shards."]), true },
        { "Shards.History", Join(s_orleans, s_npgsql, ["Shards."]), true },
        { "Shards.Postgres", Join(s_orleans, ["Shards."], s_aspNetCore), true },
        // Wire types and the request log's contract: Orleans' abstractions only.
        { "Shards.Contracts", Join(s_npgsql, ["Shards.", "Orleans.Runtime", "Orleans.Server"]), true },
        { "Shards.Storage.Abstractions", Join(s_npgsql, ["Shards.", "Orleans.Runtime"]), true },
        // Grains never see a database driver, the storage behind them, or the hosts.
        { "Shards.Grains", Join(s_npgsql, ["Shards.Storage.Postgres", "Shards.Postgres", "Shards.Server", "Shards.Api", "Shards.Client"], s_localTooling, s_aspNetCore), true },
        // The libraries are usable alone: none knows the store's grains, the hosts or the tools.
        { "Shards.Placement", Join(s_npgsql, ["Shards.Grains", "Shards.Domain", "Shards.Contracts", "Shards.Storage.", "Shards.Postgres", "Shards.Server", "Shards.Client"], s_localTooling), true },
        { "Shards.Storage.Postgres", Join(["Shards.Grains", "Shards.Domain", "Shards.Placement", "Shards.Server", "Shards.Api", "Shards.Client"], s_localTooling, s_aspNetCore), true },
        // The client library never references the silo side (Orleans' ADO.NET clustering package itself brings
        // Orleans.Runtime to every client, so that one is checked on direct references only, below).
        { "Shards.Client", Join(s_siloSide, ["Shards.Domain", "Orleans.Persistence.", "Orleans.Reminders", "Orleans.Dashboard", "OpenTelemetry"], s_localTooling, s_aspNetCore), true },
        { "Shards.Client", "Orleans.Runtime,Orleans.Server", false },
        // The JSON documents the API and the CLI share: the vocabulary only, no host, database or tool.
        { "Shards.Json", Join(s_npgsql, s_siloSide, s_localTooling, s_aspNetCore, ["Shards.Client", "Shards.Postgres", "Shards.Storage.", "Orleans.Runtime", "Orleans.Server"]), true },
        { "Shards.Api", Join(["Shards.Grains", "Shards.Storage.", "Shards.Placement", "Shards.Server", "Shards.Client"], s_localTooling), true },
        // Silos never carry the local tooling or the plotting.
        { "Shards.Server", Join(s_localTooling, s_plotting), true },
        { "Shards.Silo", Join(s_localTooling, s_plotting), true },
        // Tools never host a silo; only the benchmarks plot.
        { "Shards.LocalCluster", Join(s_siloSide, s_plotting, ["Shards.Cli", "Shards.Load", "Shards.Bench"]), true },
        { "Shards.Cli.Core", Join(s_hosting, s_plotting, ["Shards.Load", "Shards.Bench"]), true },
        { "Shards.Load", Join(s_hosting, s_plotting, ["Shards.Bench"]), true },
        { "Shards.Bench", s_hosting.Aggregate((a, b) => a + "," + b), true },
        { "shards", Join(["Shards.Grains", "Shards.Server", "Shards.Api", "Shards.Silo"], s_aspNetCore), true },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void An_assembly_never_reaches_what_its_rule_forbids(string assembly, string forbidden, bool transitive)
    {
        var reached = transitive ? Closure(assembly) : DirectReferences(assembly).ToDictionary(name => name, _ => assembly, StringComparer.Ordinal);
        var broken = reached.Keys.Where(name => Forbidden(forbidden.Split(','), name)).Order(StringComparer.Ordinal).Select(name => Path(reached, assembly, name)).ToList();
        Assert.True(broken.Count == 0, $"{assembly} {(transitive ? "reaches" : "references")} what docs/architecture.md forbids: {string.Join("; ", broken)}.");
    }

    [Fact]
    public void Every_Shards_assembly_has_a_rule()
    {
        var ruled = Rules().Select(r => (string)r[0]).ToHashSet(StringComparer.Ordinal);
        var built = Directory.GetFiles(AppContext.BaseDirectory, "*.dll")
            .Select(System.IO.Path.GetFileNameWithoutExtension)
            .Where(n => n!.StartsWith("Shards.", StringComparison.Ordinal) && n != "Shards.Tests")
            .ToList();
        var unruled = built.Where(n => !ruled.Contains(n!)).ToList();
        Assert.True(unruled.Count == 0, $"No dependency rule for {string.Join(", ", unruled)}: add one to Rules() and docs/architecture.md.");
    }

    [Fact]
    public void The_silo_build_output_holds_no_local_tooling_and_no_plotting()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(AppContext.BaseDirectory, "Shards.Silo.deps.json")));
        var libraries = manifest.RootElement.GetProperty("libraries").EnumerateObject().Select(l => l.Name.Split('/')[0]).ToList();
        Assert.Contains("Shards.Server", libraries);
        var forbidden = libraries.Where(name => Forbidden(Join(s_localTooling, s_plotting).Split(','), name)).ToList();
        Assert.True(forbidden.Count == 0, $"The silo's build output would hold {string.Join(", ", forbidden)}.");
    }

    [Fact]
    public void The_rules_would_see_a_forbidden_reference()
    {
        // The checks are only worth something if the closure does reach across assemblies.
        Assert.Contains("Shards.Grains", Closure("Shards.Server").Keys);
        Assert.Contains("Npgsql", Closure("Shards.Server").Keys);
        Assert.Contains("ScottPlot", Closure("Shards.Bench").Keys);
        Assert.Contains("Orleans.Runtime", Closure("Shards.Client").Keys);
    }

    private static string Join(params string[][] groups) => string.Join(',', groups.SelectMany(g => g));

    /// <summary>A rule ending in '.' forbids every name it starts; another forbids that name and its sub-names ("Shards.Cli" forbids Shards.Cli.Core).</summary>
    private static bool Forbidden(IEnumerable<string> rules, string name) => rules.Any(rule =>
        rule.EndsWith('.') ? name.StartsWith(rule, StringComparison.Ordinal) : name == rule || name.StartsWith(rule + ".", StringComparison.Ordinal));

    /// <summary>Every assembly <paramref name="assembly"/> reaches, each with the assembly that references it on a shortest path.</summary>
    private static Dictionary<string, string> Closure(string assembly)
    {
        var parents = new Dictionary<string, string>(StringComparer.Ordinal);
        var pending = new Queue<string>([assembly]);
        while (pending.TryDequeue(out var next))
        {
            foreach (var reference in DirectReferences(next))
            {
                if (reference != assembly && parents.TryAdd(reference, next))
                {
                    pending.Enqueue(reference);
                }
            }
        }

        return parents;
    }

    /// <summary>How <paramref name="from"/> reaches <paramref name="name"/>, e.g. "shards -> Shards.Load -> Npgsql".</summary>
    private static string Path(Dictionary<string, string> parents, string from, string name)
    {
        var chain = new List<string> { name };
        while (chain[^1] != from && parents.TryGetValue(chain[^1], out var parent))
        {
            chain.Add(parent);
        }

        chain.Reverse();
        return string.Join(" -> ", chain);
    }

    /// <summary>The assemblies <paramref name="assembly"/>'s metadata references; none for one not beside the tests (the framework).</summary>
    private static IEnumerable<string> DirectReferences(string assembly)
    {
        var path = System.IO.Path.Combine(AppContext.BaseDirectory, assembly + ".dll");
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        return metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name)).ToList();
    }
}
