using System.CommandLine;
using Shards.Client.Cli;
using Shards.Client.Demo;
using Shards.Contracts.Common;
using Shards.Hosting.Client;

namespace Shards.Client.Commands;

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
            Print(context.Output, locations);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Prints the bar chart (or the JSON document) for a key → location map.</summary>
    public static void Print(CliOutput output, IReadOnlyDictionary<EntityKey, GrainLocation> locations)
    {
        var perSilo = locations.Values.GroupBy(l => l.SiloName).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count())).ToList();
        output.Bars(perSilo);
        output.Document(new { keys = locations.Count, perSilo = perSilo.ToDictionary(p => p.Key, p => p.Item2) });
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
