using System.CommandLine;
using Shards.Cli.Core;
using Shards.Cli.Top;
using Shards.Postgres;
using Spectre.Console;

namespace Shards.Cli.Commands;

/// <summary>How long and how often <c>shards top</c> refreshes.</summary>
/// <param name="Iterations">Refreshes before it exits; null: until Ctrl+C.</param>
internal sealed record TopSettings(TimeSpan Interval, int? Iterations)
{
    public static TopSettings Default { get; } = new(TimeSpan.FromSeconds(1), null);
}

/// <summary><c>shards top</c>: the silos, their status, activations, calls/s and errors, refreshed until Ctrl+C.</summary>
internal static class TopCommand
{
    public static Command Create(GlobalOptions global)
    {
        var interval = DurationOption.Create(
            "--interval", "Time between refreshes: 1s, 0.5s, 2m or seconds (default 1s)", TopSettings.Default.Interval, zeroAllowed: false);
        var iterations = new Option<int?>("--iterations", "-n") { Description = "Refresh this many times, then exit (default: until Ctrl+C)", HelpName = "count" };
        iterations.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1)
            {
                result.AddError("--iterations must be at least 1.");
            }
        });
        var once = new Option<bool>("--once") { Description = "One refresh, then exit (same as --iterations 1)" };
        var command = new Command(
            "top",
            "Live view of the cluster: each silo's status, activations of Shards' grains, calls/s and errors/s, refreshed every second until Ctrl+C " +
            "(a plain snapshot per refresh when stdout is not a terminal; one JSON line per refresh with --json)")
        {
            interval, iterations, once,
        };
        global.SetAction(command, (parseResult, context, ct) => RunAsync(
            context, new TopSettings(parseResult.GetValue(interval), parseResult.GetValue(once) ? 1 : parseResult.GetValue(iterations)), ct));
        return command;
    }

    /// <summary>Runs the view; also <c>shards members --watch</c>. Ctrl+C ends it with exit code 0.</summary>
    public static async Task<int> RunAsync(CliContext context, TopSettings settings, CancellationToken cancellationToken)
    {
        var connectionString = await context.ResolveConnectionStringAsync(startPrivateServer: false, cancellationToken);
        var membership = new MembershipTableReader(context.DataSources.For(connectionString));
        var clusterId = context.Cluster.ClusterId;
        var client = await context.ConnectAsync(cancellationToken);
        var sampler = new TopSampler(membership, client, clusterId, TimeProvider.System);
        var previous = await sampler.ReadAsync(cancellationToken);

        async Task LoopAsync(Action<TopReading, IReadOnlyList<TopRow>> show)
        {
            for (var refresh = 0; settings.Iterations is not { } limit || refresh < limit; refresh++)
            {
                await Task.Delay(settings.Interval, cancellationToken);
                var current = await sampler.ReadAsync(cancellationToken);
                show(current, TopRows.Between(previous, current));
                previous = current;
            }
        }

        try
        {
            if (context.Output.Json)
            {
                await LoopAsync((reading, rows) => TopView.JsonLine(clusterId, reading, rows));
            }
            else if (Console.IsOutputRedirected)
            {
                await LoopAsync((reading, rows) => TopView.Plain(context.Output, clusterId, reading, rows));
            }
            else
            {
                await AnsiConsole.Live(TopView.Table(clusterId, previous, TopRows.Between(null, previous)))
                    .StartAsync(live => LoopAsync((reading, rows) =>
                    {
                        live.UpdateTarget(TopView.Table(clusterId, reading, rows));
                        live.Refresh();
                    }));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C is how a live view ends.
        }

        return ExitCodes.Ok;
    }
}
