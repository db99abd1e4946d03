using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Shards.LocalCluster;

namespace Shards.Bench;

/// <summary>
/// nginx in front of the bench's silos, as deploy/nginx.conf runs it (scripts/nginx-for-cluster.sh does the same for
/// a cluster started by hand): the template's upstream servers replaced by the silos' HTTP ports, listening on
/// 127.0.0.1 only, its files under its own prefix folder, in the foreground as a child of this process. Stopped
/// (SIGTERM, then SIGKILL) when disposed.
/// </summary>
public sealed class NginxFrontend : IAsyncDisposable
{
    /// <summary>The template, relative to the repository root.</summary>
    public static readonly string TemplatePath = Path.Combine("deploy", "nginx.conf");

    private const string ServersBegin = "# servers: begin";
    private const string ServersEnd = "# servers: end";
    private const string ListenLine = "        listen ";
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly string? _watchdogToken;

    private NginxFrontend(Process process, int port, string? watchdogToken)
    {
        _process = process;
        _watchdogToken = watchdogToken;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
    }

    public Uri BaseAddress { get; }

    /// <summary>The master and its workers now (the master forks its workers after it started listening).</summary>
    public IReadOnlyList<int> Pids => [_process.Id, .. LocalProcesses.ChildrenOf(_process.Id)];

    /// <summary>
    /// The template with its upstream servers replaced by <paramref name="siloPorts"/> on 127.0.0.1 and its listen
    /// line by 127.0.0.1:<paramref name="listenPort"/>. Throws when the template lacks the server markers or a listen line.
    /// </summary>
    public static string Configure(string template, IReadOnlyList<int> siloPorts, int listenPort)
    {
        var text = new StringBuilder();
        bool skipping = false, servers = false, listen = false;
        foreach (var line in template.ReplaceLineEndings("\n").Split('\n'))
        {
            if (line.TrimStart().StartsWith(ServersBegin, StringComparison.Ordinal))
            {
                text.Append(line).Append('\n');
                foreach (var port in siloPorts)
                {
                    text.Append($"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n");
                }

                skipping = servers = true;
                continue;
            }

            if (line.TrimStart().StartsWith(ServersEnd, StringComparison.Ordinal))
            {
                skipping = false;
            }

            if (skipping)
            {
                continue;
            }

            if (line.StartsWith(ListenLine, StringComparison.Ordinal))
            {
                // The address is replaced; the template's parameters after it (e.g. reuseport) are kept.
                var parameters = line[ListenLine.Length..].TrimEnd().TrimEnd(';').Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
                text.Append($"{ListenLine}127.0.0.1:{listenPort}{(parameters.Length > 1 ? " " + parameters[1].Trim() : "")};\n");
                listen = true;
                continue;
            }

            text.Append(line).Append('\n');
        }

        return servers && listen
            ? text.ToString().TrimEnd('\n') + "\n"
            : throw new InvalidDataException($"The nginx template has no '{ServersBegin}' ... '{ServersEnd}' block or no 'listen' line.");
    }

    /// <summary>deploy/nginx.conf in the current folder or one above it, or above this program's folder; null when none.</summary>
    public static string? FindTemplate()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                var candidate = Path.Combine(folder.FullName, TemplatePath);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>nginx started in front of <paramref name="siloPorts"/>, or null and the reason it could not be.</summary>
    public static async Task<(NginxFrontend? Nginx, string? Reason)> StartAsync(string directory, IReadOnlyList<int> siloPorts, CancellationToken cancellationToken)
    {
        if (Executables.Find("nginx") is not { } nginx)
        {
            return (null, "nginx is not installed (apt-get install nginx-light, or nginx): nothing measured through nginx");
        }

        if (FindTemplate() is not { } template)
        {
            return (null, $"{TemplatePath} was not found above {Directory.GetCurrentDirectory()} (run from the repository)");
        }

        var prefix = Path.GetFullPath(directory);
        Directory.CreateDirectory(Path.Combine(prefix, "logs"));
        Directory.CreateDirectory(Path.Combine(prefix, "tmp"));
        var port = LoopbackPorts.Free();
        await File.WriteAllTextAsync(Path.Combine(prefix, "nginx.conf"), Configure(await File.ReadAllTextAsync(template, cancellationToken), siloPorts, port), cancellationToken);
        var start = new ProcessStartInfo(nginx)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "-p", prefix + Path.DirectorySeparatorChar, "-e", "logs/error.log", "-c", "nginx.conf", "-g", "daemon off;" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{nginx} did not start.");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < s_startTimeout)
        {
            if (process.HasExited)
            {
                var error = (await stderr).Trim();
                var code = process.ExitCode;
                process.Dispose();
                return (null, $"nginx exited at start (code {code}): {(error.Length > 0 ? error : "see " + Path.Combine(prefix, "logs", "error.log"))}");
            }

            if (await AcceptsAsync(port, cancellationToken))
            {
                return (new NginxFrontend(process, port, Watch(process.Id, prefix)), null);
            }

            await Task.Delay(50, cancellationToken);
        }

        var frontend = new NginxFrontend(process, port, watchdogToken: null);
        await frontend.DisposeAsync();
        return (null, $"nginx did not accept connections on 127.0.0.1:{port} within {s_startTimeout.TotalSeconds:0} s");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                PosixSignals.Send(_process.Id, PosixSignals.SigTerm);
                using var timeout = new CancellationTokenSource(s_stopTimeout);
                try
                {
                    await _process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync(CancellationToken.None);
                }
            }
        }
        finally
        {
            _process.Dispose();
            if (_watchdogToken is not null)
            {
                File.Delete(_watchdogToken); // stopped: the watchdog has nothing left to do
            }
        }
    }

    /// <summary>
    /// Stops nginx if this process dies without stopping it (SIGKILL): a detached watchdog sends it SIGTERM, then
    /// SIGKILL, if its PID still runs nginx with this prefix.
    /// </summary>
    private static string Watch(int nginxPid, string prefix)
    {
        var owned = $"ps -o args= -p {nginxPid} | grep -qF -- {DetachedShell.Quote(prefix)}";
        return DetachedShell.StartWatchdog(
            Environment.ProcessId, prefix,
            $"if {owned}; then kill -TERM {nginxPid}; sleep 5; if {owned}; then kill -KILL {nginxPid}; fi; fi",
            "nginx's watchdog");
    }

    private static async Task<bool> AcceptsAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>Programs on this machine: the PATH, then the sbin folders a user's PATH often lacks.</summary>
public static class Executables
{
    private static readonly string[] s_extraFolders = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

    /// <summary>The full path of program <paramref name="name"/>, or null when it is not installed.</summary>
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(s_extraFolders)
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);
}
