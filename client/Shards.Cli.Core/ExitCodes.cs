namespace Shards.Cli.Core;

/// <summary>What the <c>shards</c> command returns, so scripts can tell failures apart.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Bad input (malformed ID, negative quantity, unknown option) or a domain rule said no. Nothing changed.</summary>
    public const int BadInput = 1;

    /// <summary>The entity or silo does not exist.</summary>
    public const int NotFound = 3;

    /// <summary>A dependency is down: no silo reachable, PostgreSQL unavailable, a call timed out.</summary>
    public const int Unavailable = 4;

    /// <summary>The demo or a check found lost or wrong values.</summary>
    public const int CheckFailed = 5;

    /// <summary>The order failed (payment declined or timed out, not enough stock); it was compensated and says why.</summary>
    public const int OrderFailed = 6;

    /// <summary><c>shards cluster up</c> refused: a launcher of the same cluster already runs from this folder. Nothing started.</summary>
    public const int AlreadyRunning = 7;

    /// <summary>An unexpected error (its type and message are printed, never a stack trace).</summary>
    public const int Unexpected = 70;

    /// <summary>Cancelled (Ctrl+C, SIGTERM).</summary>
    public const int Cancelled = 130;

    /// <summary>The stable <c>error.code</c> of the JSON error document (<c>--json</c>) for an exit code.</summary>
    public static string Code(int exitCode) => exitCode switch
    {
        BadInput => "bad-input",
        NotFound => "not-found",
        Unavailable => "unavailable",
        CheckFailed => "check-failed",
        OrderFailed => "order-failed",
        AlreadyRunning => "already-running",
        Cancelled => "cancelled",
        _ => "unexpected",
    };
}

/// <summary>An error the CLI reports as one clear line with an exit code, never a stack trace.</summary>
/// <param name="details">What the JSON error document (<c>--json</c>) shows beside the message, e.g. the processes still running.</param>
public sealed class CliException(string message, int exitCode = ExitCodes.BadInput, object? details = null) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public object? Details { get; } = details;
}
