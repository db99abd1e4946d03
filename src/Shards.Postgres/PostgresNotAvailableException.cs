namespace Shards.Postgres;

/// <summary>PostgreSQL cannot be started or reached; the message says what to do about it.</summary>
public sealed class PostgresNotAvailableException(string message, Exception? innerException = null)
    : Exception(message, innerException);
