using Shards.Cli.Core;
using Shards.Contracts.Catalog;

namespace Shards.Bench;

/// <summary>Memory: silo RSS idle and after activating grains (CPU per call is measured by the call path).</summary>
public static class CostSuite
{
    public static async Task<IReadOnlyList<MemoryStep>> ActivationAsync(
        IGrainFactory grains, BenchOptions options, int silos, IReadOnlyList<int> pids, CancellationToken cancellationToken)
    {
        var steps = new List<MemoryStep>();
        var activated = 0;
        foreach (var step in options.ActivationSteps)
        {
            CliOutput.Status($"bench: activating product grains up to {step} (empty state, one storage read each) ...");
            await Parallel.ForEachAsync(
                Enumerable.Range(activated, step - activated),
                new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
                async (i, token) => await grains.GetGrain<IProductGrain>($"mem-{i:D6}").GetAsync(token));
            activated = step;
            steps.Add(new MemoryStep(silos, step, AverageRss(pids)));
        }

        return steps;
    }

    /// <summary>MB of RSS per 1,000 active grains, from idle to the last step on <paramref name="silos"/> silos.</summary>
    public static double? RssPer1000Grains(IReadOnlyList<MemoryStep> memory, int silos)
    {
        var steps = memory.Where(m => m.Silos == silos).OrderBy(m => m.ActiveGrains).ToList();
        return steps.Count < 2 ? null : (steps[^1].RssMbPerSilo - steps[0].RssMbPerSilo) / (steps[^1].ActiveGrains / 1000.0);
    }

    public static double AverageRss(IReadOnlyList<int> pids) =>
        pids.Select(ProcessMeter.RssMb).Where(r => r is not null).Select(r => r!.Value).DefaultIfEmpty(0).Average();
}
