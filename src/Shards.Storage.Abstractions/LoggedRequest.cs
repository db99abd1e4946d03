namespace Shards.Storage;

/// <summary>
/// A command applied to a grain, as the grain's request log keeps it: its request ID, the moment after which no copy
/// of it can be applied any more (its deadline plus the clock-skew allowance), and the answer it got.
/// </summary>
/// <param name="Id">The request ID every copy of the command carries.</param>
/// <param name="ExpiresAt">Until when a copy may still arrive and must be recognised.</param>
/// <param name="Outcome">The answer the command got, serialised; null when it is not loaded (activations load IDs only).</param>
public sealed record LoggedRequest(Guid Id, DateTimeOffset ExpiresAt, byte[]? Outcome = null);
