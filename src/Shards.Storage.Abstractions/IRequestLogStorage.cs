using Orleans.Runtime;

namespace Shards.Storage;

/// <summary>A grain storage that keeps a request log beside the states it stores.</summary>
public interface IRequestLogStorage
{
    /// <summary>
    /// The logged request <paramref name="requestId"/> of the grain's state <paramref name="stateName"/>, with its
    /// outcome; null when the log holds no such request (it was never applied, or it expired beyond the retention).
    /// </summary>
    Task<LoggedRequest?> FindAsync(string stateName, GrainId grainId, Guid requestId);
}
