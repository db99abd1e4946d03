using Microsoft.Extensions.Logging;
using Npgsql;

namespace Shards.Postgres;

/// <summary>Waits for a PostgreSQL that is down or still starting, with a clear message instead of a stack trace.</summary>
public static partial class PostgresAvailability
{
    /// <summary>Opens a connection of <paramref name="database"/>, retrying with backoff until <paramref name="maxWait"/> has passed.</summary>
    public static async Task WaitUntilReachableAsync(
        NpgsqlDataSource database, TimeSpan maxWait, ILogger logger, CancellationToken cancellationToken = default)
    {
        var target = Describe(database);
        var deadline = DateTime.UtcNow + maxWait;
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                await using var connection = await database.OpenConnectionAsync(cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                if (DateTime.UtcNow + delay > deadline)
                {
                    throw new PostgresNotAvailableException(
                        $"PostgreSQL at {target} did not answer within {maxWait.TotalSeconds:0} s: {ex.Message}. " +
                        "Start it (shards db start) or fix its connection string (ConnectionStrings__Shards, or Shards__Storage__Shards__N__ConnectionString for a shard).", ex);
                }

                LogWaiting(logger, target, ex.Message, delay.TotalSeconds);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 4000));
            }
        }
    }

    /// <summary>
    /// Why a connection failed, in one line: Npgsql's message without its "Check inner exception" advice, followed by
    /// the inner exception's message (e.g. "Connection refused"), which says what actually happened.
    /// </summary>
    public static string Reason(Exception exception)
    {
        var message = exception.Message.Replace("Check inner exception for more details.", string.Empty, StringComparison.Ordinal).Trim().TrimEnd('.');
        return exception.InnerException is { } inner && !string.IsNullOrWhiteSpace(inner.Message) && !message.Contains(inner.Message, StringComparison.Ordinal)
            ? $"{message} ({inner.Message.Trim().TrimEnd('.')})"
            : message;
    }

    /// <summary>host:port/database of <paramref name="database"/>, never the password.</summary>
    public static string Describe(NpgsqlDataSource database) => Describe(database.ConnectionString);

    /// <summary>host:port/database, never the password.</summary>
    public static string Describe(string connectionString)
    {
        try
        {
            // A multi-host string (a primary and its standbys) names each host, with its own port or the common one.
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            var hosts = (builder.Host ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(host => (host.StartsWith('[') ? host.Contains("]:", StringComparison.Ordinal) : host.Contains(':', StringComparison.Ordinal)) ? host : $"{host}:{builder.Port}");
            return $"{string.Join(',', hosts)}/{builder.Database}";
        }
        catch (ArgumentException)
        {
            return "(unparsable connection string)";
        }
    }

    [LoggerMessage(EventId = 1050, Level = LogLevel.Warning, Message = "PostgreSQL at {Target} is not reachable ({Reason}); retrying in {DelaySeconds:0.##} s")]
    private static partial void LogWaiting(ILogger logger, string target, string reason, double delaySeconds);
}
