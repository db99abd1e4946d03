namespace Shards.LocalCluster.Postgres;

/// <summary>
/// The PostgreSQL that Shards runs for itself under <c>.shards/</c>: one private server (<see cref="PrivatePostgresServer"/>,
/// the default) or a pg_auto_failover formation of a primary and a synchronous standby (<see cref="PostgresHaFormation"/>,
/// <c>--ha</c>). What the CLI needs of either: start it, stop it, make databases on it, and say where it is.
/// </summary>
public interface IPrivatePostgres
{
    /// <summary>The folder holding its data, logs and password file.</summary>
    string RootDirectory { get; }

    /// <summary>Whether it is the high-availability formation.</summary>
    bool IsHighlyAvailable { get; }

    /// <summary>Where it last ran, as a launcher's <c>cluster.json</c> names its database (null before its first start).</summary>
    string? LastAddress { get; }

    /// <summary>Initialises it when new, starts what does not run, and returns the main database's connection string. Idempotent.</summary>
    Task<string> StartAsync(CancellationToken cancellationToken = default);

    /// <summary>Stops it; data is kept. Idempotent.</summary>
    Task StopAsync(CancellationToken cancellationToken = default);

    /// <summary>Stops it and deletes its folder.</summary>
    Task DestroyAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates <paramref name="database"/> unless it exists, and returns its connection string.</summary>
    Task<string> CreateDatabaseAsync(string database, CancellationToken cancellationToken = default);

    /// <summary>Stops it and deletes its folder once process <paramref name="ownerPid"/> is gone, however it ends (for tests and benches).</summary>
    void DestroyWhenProcessExits(int ownerPid);

    /// <summary>The main database's connection string while it runs, else null. It holds the password: never log it.</summary>
    Task<string?> RunningConnectionStringAsync(CancellationToken cancellationToken = default);
}
