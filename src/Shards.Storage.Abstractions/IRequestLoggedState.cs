namespace Shards.Storage;

/// <summary>
/// A grain state whose changes are logged by request: the storage writes the log row of <see cref="Applying"/> in the
/// same transaction as the state, and fills <see cref="Recent"/> when it reads the state. Neither is part of the
/// stored state itself (they carry no serializer <c>[Id]</c>); both are only the exchange between a grain and its storage.
/// </summary>
public interface IRequestLoggedState
{
    /// <summary>
    /// The request whose change this state is, with its outcome, set by the grain just before the state is written;
    /// null for a change no request ID asked for (nothing is logged).
    /// </summary>
    LoggedRequest? Applying { get; set; }

    /// <summary>
    /// The requests applied to the grain that a copy may still repeat (not yet expired): IDs and expiries, set by the
    /// storage when it read this state; null when the storage keeps no request log.
    /// </summary>
    IReadOnlyList<LoggedRequest>? Recent { get; set; }
}
