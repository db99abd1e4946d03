using System.CommandLine;
using Shards.Cli.Core;
using Shards.Client;
using Shards.Contracts.Common;

namespace Shards.Cli.Commands;

/// <summary><c>shards distribution</c>: how many of a set of keys each silo hosts.</summary>
internal static class DistributionCommand
{
    public static Command Create(GlobalOptions global)
    {
        var products = StoreCommands.CountOption("--products", "Products sku-00001.. to locate", 1000);
        var carts = StoreCommands.CountOption("--carts", "Carts cart-00001.. to locate", 1000);
        var command = new Command("distribution", "Show how the demo's keys are spread over the silos, as a bar chart") { products, carts };
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            var client = await context.ConnectAsync(ct);
            var keys = new StoreSeeder(client, parseResult.GetValue(products), parseResult.GetValue(carts)).Keys().ToList();
            var locations = await KeyLocator.LocateAsync(client, keys, new Progress("locating", keys.Count), ct);
            var activations = await ActivationsPerSiloAsync(client);
            Print(context.Output, locations, activations);
            context.Output.Document(Document(locations, activations));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// Prints the bar chart for a key → location map, and with <paramref name="activations"/> (silo name → grain type →
    /// count) a table of every activation per silo. Text only: the caller prints its one JSON document
    /// (<see cref="Document"/> for <c>shards distribution</c>; the demo folds the distribution into its summary).
    /// </summary>
    public static void Print(
        CliOutput output, IReadOnlyDictionary<EntityKey, GrainLocation> locations, IReadOnlyDictionary<string, Dictionary<string, long>>? activations = null)
    {
        output.Bars(PerSilo(locations));
        if (activations is not null)
        {
            var types = activations.Values.SelectMany(a => a.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
            output.Line();
            output.Line("Activations of Shards' grains per silo (what each silo's shards_grain_activations gauge reports):");
            output.Table(
                ["SILO", .. types.Select(t => t.ToUpperInvariant())],
                activations.Select(a => (IReadOnlyList<string>)[a.Key, .. types.Select(t => a.Value.GetValueOrDefault(t).ToString())]));
        }
    }

    /// <summary>The JSON document of <c>shards distribution</c>.</summary>
    public static object Document(
        IReadOnlyDictionary<EntityKey, GrainLocation> locations, IReadOnlyDictionary<string, Dictionary<string, long>>? activations) =>
        new { keys = locations.Count, perSilo = PerSilo(locations).ToDictionary(p => p.Label, p => p.Value), activations };

    private static List<(string Label, int Value)> PerSilo(IReadOnlyDictionary<EntityKey, GrainLocation> locations) =>
        locations.Values.GroupBy(l => l.SiloName).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (g.Key, g.Count())).ToList();

    /// <summary>
    /// Every activation of Shards' grains per silo name (not only the keys located), read as each silo's
    /// <c>shards_grain_activations</c> gauge reads it: Orleans' catalog counts through the management grain.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, Dictionary<string, long>>> ActivationsPerSiloAsync(IGrainFactory grains)
    {
        var counts = await GrainActivationCounts.ReadAsync(grains);
        var names = (await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true))
            .ToDictionary(h => h.SiloAddress, h => h.SiloName);
        return counts.GroupBy(c => names.GetValueOrDefault(c.Silo, c.Silo.ToString()))
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.GroupBy(c => c.Grain).ToDictionary(t => t.Key, t => t.Sum(c => c.Count)));
    }
}

/// <summary>Asks many grains where they live, in parallel.</summary>
public static class KeyLocator
{
    public static async Task<IReadOnlyDictionary<EntityKey, GrainLocation>> LocateAsync(
        IGrainFactory grains, IReadOnlyList<EntityKey> keys, Progress? progress, CancellationToken cancellationToken)
    {
        var result = new System.Collections.Concurrent.ConcurrentDictionary<EntityKey, GrainLocation>();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (key, ct) =>
        {
            result[key] = await ClusterCallRetry.RunAsync(() => key.Grain(grains).WhereAsync(), TimeSpan.FromSeconds(30), ct);
            progress?.Advance();
        });
        progress?.Finish();
        return result;
    }
}
