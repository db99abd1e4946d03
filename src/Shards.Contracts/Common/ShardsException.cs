namespace Shards.Contracts.Common;

/// <summary>Why a Shards call failed, in terms a caller can act on.</summary>
[GenerateSerializer, Alias("shards.ErrorCode")]
public enum ShardsErrorCode
{
    /// <summary>The input broke a domain rule (bad ID, negative quantity, name too long...). Nothing changed.</summary>
    Validation = 1,

    /// <summary>The entity does not exist.</summary>
    NotFound = 2,

    /// <summary>The request conflicts with the current state (not enough stock, a concurrent writer).</summary>
    Conflict = 3,

    /// <summary>
    /// The state could not be read or written in PostgreSQL, or a write's outcome is unknown (the commit may have
    /// landed while its answer was lost). Transient: retry under the same request ID, which answers the original outcome
    /// if the change was stored and applies it once if it was not.
    /// </summary>
    StorageUnavailable = 4,

    /// <summary>
    /// The request's deadline passed before it was applied: it was not applied, and no copy of it ever will be. Send it
    /// again under a new request ID if it is still wanted.
    /// </summary>
    Expired = 5,

    /// <summary>
    /// The silo that received the call cannot currently reach a majority of the cluster (a network partition may have cut
    /// it off): it refuses every call before the grain runs, so that it cannot answer from an activation the majority
    /// has already replaced. Nothing was applied. Transient: retry, through another gateway if this one stays cut off.
    /// </summary>
    SiloCutOff = 6,
}

/// <summary>
/// The one exception type Shards grains throw to callers. It is serialisable (Npgsql's own exceptions are not:
/// they would reach the client as CodecNotFoundException) and carries a message a person can act on.
/// </summary>
[GenerateSerializer, Alias("shards.ShardsException")]
public sealed class ShardsException : Exception
{
    public ShardsException(ShardsErrorCode code, string message)
        : base(message)
    {
        Code = code;
    }

    public ShardsException(ShardsErrorCode code, string message, Exception innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    public ShardsException()
        : this(ShardsErrorCode.Validation, "Shards error")
    {
    }

    public ShardsException(string message)
        : this(ShardsErrorCode.Validation, message)
    {
    }

    public ShardsException(string message, Exception innerException)
        : this(ShardsErrorCode.Validation, message, innerException)
    {
    }

    [Id(0)]
    public ShardsErrorCode Code { get; private set; }
}
