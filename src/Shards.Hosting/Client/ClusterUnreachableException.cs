namespace Shards.Hosting.Client;

/// <summary>No silo of the cluster answered within the connect timeout.</summary>
public sealed class ClusterUnreachableException(string message, Exception? innerException = null) : Exception(message, innerException);
