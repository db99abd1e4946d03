using System.CommandLine;
using Shards.Cli.Core;
using Shards.LocalCluster;

namespace Shards.Cli.Commands;

/// <summary><c>shards kill SILO</c>: SIGKILL a local silo, as a crash would.</summary>
internal static class KillCommand
{
    public static Command Create(GlobalOptions global)
    {
        var silo = new Argument<string>("silo") { Description = "Silo name as 'shards members' shows it (e.g. silo-2)" };
        var command = new Command("kill", "Kill a silo process on this machine with SIGKILL (no graceful shutdown)");
        command.Arguments.Add(silo);
        global.SetAction(command, (parseResult, context, _) =>
        {
            var name = parseResult.GetValue(silo)!;
            var processes = SiloProcesses.Find(context.Cluster.ClusterId);
            var target = processes.FirstOrDefault(p => p.Name == name)
                ?? throw new CliException(
                    $"No silo named '{name}' of cluster '{context.Cluster.ClusterId}' runs on this machine" +
                    (processes.Count == 0 ? "." : $" (running: {string.Join(", ", processes.Select(p => p.Name).Order())})."),
                    ExitCodes.NotFound);
            if (!PosixSignals.Send(target.Pid, PosixSignals.SigKill))
            {
                throw new CliException($"Could not signal pid {target.Pid} (not allowed?).", ExitCodes.Unavailable);
            }

            context.Output.Line($"Sent SIGKILL to {name} (pid {target.Pid}).");
            context.Output.Document(new { killed = name, pid = target.Pid });
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
