using System.CommandLine;
using Shards.Cli.Core;
using Shards.LocalCluster;

namespace Shards.Cli.Commands;

/// <summary><c>shards kill SILO</c>: SIGKILL a silo of the local cluster, as a crash would.</summary>
internal static class KillCommand
{
    public static Command Create(GlobalOptions global)
    {
        var silo = new Argument<string>("silo") { Description = "Silo name as 'shards members' shows it (e.g. silo-2)" };
        var command = new Command("kill", "Kill a silo process of the 'shards cluster up' running from this folder with SIGKILL (no graceful shutdown)");
        command.Arguments.Add(silo);
        global.SetAction(command, (parseResult, context, _) =>
        {
            var name = parseResult.GetValue(silo)!;
            // The launcher's state file names its silos' processes (pid and start time, so never a recycled pid).
            var reading = ClusterStateFile.For(context.Cluster.ClusterId).Read();
            if (reading is not { IsRunning: true, State: { } state })
            {
                throw new CliException(reading.NotRunningMessage, ExitCodes.NotFound);
            }

            var target = state.Silos.FirstOrDefault(s => s.Name == name)
                ?? throw new CliException(
                    $"No silo named '{name}' in cluster '{context.Cluster.ClusterId}' (its silos: {string.Join(", ", state.Silos.Select(s => s.Name))}).",
                    ExitCodes.NotFound);
            if (!target.IsRunning())
            {
                throw new CliException($"{name} has no process right now (status {target.Status.ToString().ToLowerInvariant()} in {reading.Path}).", ExitCodes.NotFound);
            }

            var pid = target.Pid!.Value;
            if (!PosixSignals.Send(pid, PosixSignals.SigKill))
            {
                throw new CliException($"Could not signal pid {pid} (not allowed?).", ExitCodes.Unavailable);
            }

            context.Output.Line($"Sent SIGKILL to {name} (pid {pid}).");
            context.Output.Document(new { killed = name, pid });
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
