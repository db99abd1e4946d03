using System.Diagnostics;

namespace Shards.Tests.Infrastructure;

/// <summary>What one run of the <c>shards</c> CLI printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// Runs the built <c>shards</c> CLI as a child process with a bounded time, from a private temp folder (so that it
/// never touches a checkout's <c>.shards/</c>), or from <c>workingDirectory</c> when given (kept: the caller owns it);
/// the process is killed at the timeout. Its standard input is <c>standardInput</c>, else empty.
/// </summary>
public static class CliProcess
{
    /// <summary>
    /// shards.dll in the CLI's own build output (client/Shards.Cli/bin/CONFIGURATION/TFM/, built with the tests), run
    /// as a user runs it: with its own dependency manifest, not the tests' (which resolve some packages to the ASP.NET
    /// Core framework the CLI does not use).
    /// </summary>
    public static string CliAssembly { get; } = FindCliAssembly();

    private static string FindCliAssembly()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var (framework, configuration) = (output.Name, output.Parent!.Name);
        for (var folder = output; folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Shards.sln")))
            {
                var cli = Path.Combine(folder.FullName, "client", "Shards.Cli", "bin", configuration, framework, "shards.dll");
                return File.Exists(cli) ? cli : throw new FileNotFoundException($"The shards CLI is not built at {cli}: build Shards.sln first.");
            }
        }

        throw new FileNotFoundException("Shards.sln not found above the test's folder.");
    }

    public static async Task<CliRun> RunAsync(
        IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null, string? workingDirectory = null,
        string? standardInput = null)
    {
        var folder = workingDirectory ?? Path.Combine(Path.GetTempPath(), $"shards-cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var startInfo = new ProcessStartInfo(Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(CliAssembly);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment.Remove("ConnectionStrings__Shards");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start the shards CLI");
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"shards {string.Join(' ', startInfo.ArgumentList.Skip(1))} did not finish within {(timeout ?? TimeSpan.FromSeconds(60)).TotalSeconds} s");
        }
        finally
        {
            try
            {
                if (workingDirectory is null)
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            catch (IOException)
            {
                // A leftover empty temp folder is harmless.
            }
        }

        return new CliRun(process.ExitCode, await stdout, await stderr);
    }
}
