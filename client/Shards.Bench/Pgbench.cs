using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using Shards.Cli.Core;
using Shards.LocalCluster;
using Shards.Postgres;

namespace Shards.Bench;

/// <summary>
/// pgbench against the bench's own PostgreSQL, on a database of its own (<c>pgbench</c>): initialised once
/// (<c>pgbench -i</c>), then <c>pgbench -N</c> (simple-update: one UPDATE, one SELECT, one INSERT per transaction)
/// with as many connections as Shards had writes in flight.
/// </summary>
/// <param name="dataSources">The run's data sources.</param>
/// <param name="shardsConnectionString">Shards' database on that server: where pgbench's database is made, and pgbench's
/// server, user and password (a data source's <c>ConnectionString</c> leaves the password out).</param>
public sealed partial class Pgbench(PostgresDataSources dataSources, string shardsConnectionString)
{
    private const string Database = "pgbench";
    private readonly NpgsqlDataSource _shardsDatabase = dataSources.For(shardsConnectionString);
    private readonly NpgsqlConnectionStringBuilder _server = new(shardsConnectionString);

    public static string Locate()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "pgbench"));
        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(dir => Path.Combine(dir, "bin", "pgbench"))
            : [];
        return onPath.Concat(debian).FirstOrDefault(File.Exists)
            ?? throw new CliException("pgbench was not found on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql-client).", ExitCodes.Unavailable);
    }

    /// <summary>Creates the pgbench database (scale 1: 100,000 accounts) on the same server.</summary>
    public async Task InitialiseAsync(CancellationToken cancellationToken)
    {
        await using (var connection = await _shardsDatabase.OpenConnectionAsync(cancellationToken))
        {
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Database}", connection);
            await drop.ExecuteNonQueryAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {Database}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await RunAsync(["-i", "-s", "1", "-q"], cancellationToken);
    }

    /// <summary>Runs <c>pgbench -N</c>; its TPS (without the initial connection time).</summary>
    public async Task<double> SimpleUpdateTpsAsync(int clients, TimeSpan duration, CancellationToken cancellationToken)
    {
        var threads = Math.Min(clients, Environment.ProcessorCount);
        var output = await RunAsync(["-N", "-c", $"{clients}", "-j", $"{threads}", "-T", $"{Math.Max(1, (int)duration.TotalSeconds)}"], cancellationToken);
        var match = TpsLine().Match(output);
        return match.Success
            ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new CliException($"pgbench printed no TPS: {output}", ExitCodes.Unavailable);
    }

    /// <summary>The command line, for the report.</summary>
    public static string Describe(int clients, TimeSpan duration) =>
        $"pgbench -N -c {clients} -j {Math.Min(clients, Environment.ProcessorCount)} -T {Math.Max(1, (int)duration.TotalSeconds)}";

    private async Task<string> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var connection = Connection(_server);
        // The password through the environment: arguments show up in every user's process list.
        var environment = string.IsNullOrEmpty(_server.Password) ? null : new Dictionary<string, string> { ["PGPASSWORD"] = _server.Password };
        var result = await ProcessRunner.RunAsync(Locate(), [.. arguments, .. connection], TimeSpan.FromMinutes(2), environment, cancellationToken);
        if (!result.Succeeded)
        {
            throw new CliException($"pgbench {string.Join(' ', arguments)} failed: {result.Diagnostics}", ExitCodes.Unavailable);
        }

        return result.StandardOutput + result.StandardError;
    }

    /// <summary>
    /// pgbench's connection arguments for the server of <paramref name="server"/>: host, port and user, or for a multi-host
    /// string (the --ha formation) a libpq connection string as the database argument that asks for the read-write node,
    /// so pgbench runs on the same primary as Shards.
    /// </summary>
    internal static string[] Connection(NpgsqlConnectionStringBuilder server)
    {
        var hosts = (server.Host ?? "127.0.0.1").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (hosts.Length == 1)
        {
            return ["-h", hosts[0], "-p", $"{server.Port}", "-U", server.Username!, Database];
        }

        var pairs = hosts.Select(h => h.LastIndexOf(':') is var colon and > 0 && !h.EndsWith(']') ? (h[..colon], h[(colon + 1)..]) : (h, $"{server.Port}")).ToList();
        return [$"host={string.Join(',', pairs.Select(p => p.Item1))} port={string.Join(',', pairs.Select(p => p.Item2))} user={server.Username} dbname={Database} target_session_attrs=read-write"];
    }

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection")]
    private static partial Regex TpsLine();
}
