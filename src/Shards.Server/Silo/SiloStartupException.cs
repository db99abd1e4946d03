namespace Shards.Server.Silo;

/// <summary>A silo cannot start; the message says why and what to do. The host prints it without a stack trace.</summary>
public sealed class SiloStartupException(string message, Exception? innerException = null) : Exception(message, innerException);
