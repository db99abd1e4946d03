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
}

/// <summary>An error the CLI reports as one clear line with an exit code, never a stack trace.</summary>
public sealed class CliException(string message, int exitCode = ExitCodes.BadInput) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
