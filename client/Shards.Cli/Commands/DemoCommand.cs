using System.CommandLine;
using Shards.Cli.Core;
using Shards.Cli.Demo;

namespace Shards.Cli.Commands;

/// <summary><c>shards demo</c>: the kill-a-silo story, end to end, with a summary.</summary>
internal static class DemoCommand
{
    public static Command Create(GlobalOptions global)
    {
        var silos = new Option<int>("--silos") { Description = "Silo processes to start (2-8)", DefaultValueFactory = _ => 3 };
        silos.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 2 or > 8)
            {
                r.AddError("--silos must be between 2 and 8 (one must survive the kill).");
            }
        });
        var products = StoreCommands.CountOption("--products", "Products to seed", 1000);
        var carts = StoreCommands.CountOption("--carts", "Carts to seed", 1000);
        var shards = ClusterCommands.ShardsOption();
        var ha = new Option<bool>("--ha")
        {
            Description = "Run on a private pg_auto_failover formation (monitor, primary, synchronous standby) instead of one PostgreSQL server",
        };
        var command = new Command("demo", "Start PostgreSQL and silos, seed data, SIGKILL the busiest silo, time the failover, verify every value")
        {
            silos, products, carts, shards, ha,
        };
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            if (parseResult.GetValue(products) < 1)
            {
                throw new CliException("--products must be at least 1 (carts hold products).");
            }

            var story = new DemoStory(context, parseResult.GetValue(silos), parseResult.GetValue(products), parseResult.GetValue(carts), parseResult.GetValue(shards), parseResult.GetValue(ha));
            using var stop = new StopSignals(ct);
            var summary = await story.RunAsync(stop.Token);
            var output = context.Output;
            output.Line();
            output.Line("Summary");
            output.Line($"  silos                      {summary.Silos}");
            output.Line($"  seeded                     {summary.Products} products, {summary.Carts} carts in {summary.SeedSeconds:0.0} s ({summary.SeedWritesPerSecond:0} writes/s)");
            output.Line($"  killed                     {summary.KilledSilo} with SIGKILL, hosting {summary.KeysOnKilledSilo} keys");
            output.Line($"  declared dead after        {(summary.DeclaredDeadAfterSeconds is { } d ? $"{d:0.00} s" : "-")}");
            output.Line($"  every key back after       {summary.AllKeysBackAfterSeconds:0.00} s (median {summary.MedianKeyBackAfterSeconds:0.00} s)");
            output.Line($"  keys moved to survivors    {summary.KeysMoved}/{summary.KeysOnKilledSilo}");
            output.Line($"  values verified            {summary.ValuesVerified}/{summary.Products + summary.Carts}, {summary.ValuesWrong} lost or wrong");
            if (summary.RowsPerShard is { } rows)
            {
                output.Line($"  state rows per shard       {string.Join(", ", rows.Select(r => $"{r.Key.Split(' ')[0]} {r.Value}"))}");
            }
            output.Document(summary);
            return summary.ValuesWrong == 0 ? ExitCodes.Ok : ExitCodes.CheckFailed;
        });
        return command;
    }
}
