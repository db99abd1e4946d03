using System.CommandLine;
using Shards.Client.Cli;
using Shards.Client.Launcher;
using Shards.Hosting.Database;

namespace Shards.Client.Commands;

/// <summary><c>shards cluster up</c>: a local cluster master that starts and supervises silo processes.</summary>
internal static class ClusterCommands
{
    public static Command Create(GlobalOptions global)
    {
        var cluster = new Command("cluster", "Run a local cluster of silo processes");
        var silos = new Option<int>("--silos", "-n")
        {
            Description = "Number of silo processes (default: one per core, at least 2)",
            DefaultValueFactory = _ => Math.Max(2, Environment.ProcessorCount),
        };
        silos.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<int>();
            if (value is < 1 or > 32)
            {
                result.AddError("--silos must be between 1 and 32.");
            }
        });
        var noRestart = new Option<bool>("--no-restart") { Description = "Do not restart silos that crash" };

        var up = new Command("up", "Start N silos (and the private PostgreSQL unless one is configured), supervise them until Ctrl+C");
        up.Options.Add(silos);
        up.Options.Add(noRestart);
        global.SetAction(up, async (parseResult, context, ct) =>
        {
            using var stop = new StopSignals(ct);
            ct = stop.Token;
            var connectionString = await context.ResolveConnectionStringAsync(startPrivateServer: true, ct);
            var options = new LauncherOptions
            {
                SiloCount = parseResult.GetValue(silos),
                ConnectionString = connectionString,
                ClusterId = context.Cluster.ClusterId,
                ServiceId = context.Cluster.ServiceId,
                RestartCrashedSilos = !parseResult.GetValue(noRestart),
            };
            await using var launcher = new ClusterLauncher(options, message => CliOutput.Status($"[{DateTime.Now:HH:mm:ss}] {message}"));
            CliOutput.Status($"Starting {options.SiloCount} silo(s) of cluster '{options.ClusterId}' (membership in {PostgresAvailability.Describe(connectionString)}) ...");
            var started = DateTime.UtcNow;
            await launcher.StartAsync(ct);
            context.Output.Line($"{options.SiloCount} silo(s) active after {(DateTime.UtcNow - started).TotalSeconds:0.0} s:");
            context.Output.Table(
                ["SILO", "PID", "SILO PORT", "GATEWAY", "LOG"],
                launcher.Silos.Select(s => (IReadOnlyList<string>)[s.Name, s.Pid?.ToString() ?? "-", s.SiloPort.ToString(), s.GatewayPort.ToString(), s.LogFile]));
            context.Output.Document(new { silos = launcher.Silos.Select(s => new { s.Name, s.Pid, s.SiloPort, s.GatewayPort, s.LogFile }) });
            context.Output.Line("Supervising: a crashed silo is restarted. Try 'shards members', 'shards kill silo-2' in another terminal. Ctrl+C stops all.");

            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C / SIGTERM: fall through to the graceful stop.
            }

            CliOutput.Status("Stopping all silos gracefully ...");
            await launcher.StopAsync();
            CliOutput.Status("All silos stopped.");
            return ExitCodes.Ok;
        });
        cluster.Subcommands.Add(up);
        return cluster;
    }
}
