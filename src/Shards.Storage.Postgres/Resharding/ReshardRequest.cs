namespace Shards.Storage.Postgres.Resharding;

public enum ReshardOperation
{
    /// <summary>Add a shard database: about 1/(N+1) of the keys move to it.</summary>
    Add,

    /// <summary>Remove a shard database: its keys move to the others.</summary>
    Remove,
}

/// <summary>
/// One resharding: add or remove the shard <paramref name="Name"/>. <paramref name="ConnectionString"/> reaches its
/// database; null means "as the shard map records it, with the main connection's credentials" (or as configured).
/// </summary>
public sealed record ReshardRequest(ReshardOperation Operation, string Name, string? ConnectionString)
{
    public string Verb => Operation == ReshardOperation.Add ? "add" : "remove";

    public override string ToString() => $"{Verb} {Name}";
}

/// <summary>Where a resharding is: its phase, keys moved so far (all runs) of the total, and this run's rate.</summary>
public sealed record ReshardProgress(string Phase, long KeysMoved, long KeysTotal, double KeysPerSecond);

/// <summary>What a finished resharding did.</summary>
/// <param name="FromVersion">The map version before the resharding.</param>
/// <param name="TargetVersion">The map version it ends with.</param>
/// <param name="KeysMoved">Keys moved, over every run of this resharding.</param>
/// <param name="KeysMovedThisRun">Keys this run moved (less than <paramref name="KeysMoved"/> when it resumed an interrupted one).</param>
/// <param name="KeysScanned">Keys (rows) of the service in the shards when this run first scanned them.</param>
/// <param name="Resumed">True when this run continued a resharding an earlier run began.</param>
/// <param name="MoveTime">Time this run spent moving rows (without the fences).</param>
/// <param name="TotalTime">This run's whole time, fences included.</param>
/// <param name="FenceWaitsSkipped">Fence waits this run skipped because no silo was live (<see cref="ReshardCoordinator.SilosMayRoute"/>).</param>
public sealed record ReshardResult(
    ReshardRequest Request, int FromVersion, int TargetVersion, long KeysMoved, long KeysMovedThisRun, long KeysScanned, bool Resumed, TimeSpan MoveTime, TimeSpan TotalTime,
    int FenceWaitsSkipped = 0);

/// <summary>A resharding that cannot start or go on, with a message a person can act on.</summary>
/// <param name="DependencyDown">True when a database does not answer (retry later), false for bad input.</param>
public sealed class ReshardException(string message, bool dependencyDown = false) : Exception(message)
{
    public bool DependencyDown { get; } = dependencyDown;
}
