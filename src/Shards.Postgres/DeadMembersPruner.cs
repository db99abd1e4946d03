using Npgsql;

namespace Shards.Postgres;

/// <summary>
/// Deletes a cluster's Dead rows from the membership table, as Orleans' own cleanup of defunct silos does (each silo
/// runs it every <c>DefunctSiloCleanupPeriod</c> for rows older than <c>DefunctSiloExpiration</c>): Dead is final, a
/// restarted silo joins under a new generation and so a new row, and the table version (the etag of every write) is
/// left alone, so no silo's insert or update of its own row is refused because of a prune.
/// </summary>
/// <param name="database">The main database, where the membership table is.</param>
public sealed class DeadMembersPruner(NpgsqlDataSource database)
{
    /// <summary>The data sources of <see cref="PruneAsync(string, string, TimeSpan, CancellationToken)"/>, one per database for the process.</summary>
    private static readonly PostgresDataSources s_withoutRegistry = new();

    /// <summary>Prunes through a process-wide registry, for code that has none of its own (the launcher).</summary>
    public static Task<IReadOnlyList<MembershipRow>> PruneAsync(
        string connectionString, string clusterId, TimeSpan olderThan, CancellationToken cancellationToken = default) =>
        new DeadMembersPruner(s_withoutRegistry.For(connectionString)).PruneAsync(clusterId, olderThan, cancellationToken);

    /// <summary>
    /// Deletes the Dead rows of <paramref name="clusterId"/> and returns them. With a positive <paramref name="olderThan"/>
    /// only rows whose start, last heartbeat and every suspicion vote are older than that are deleted (Orleans' own
    /// cut-off rule); zero deletes every Dead row. Rows in any other status are never touched: the status is checked in
    /// the same statement, and no status follows Dead.
    /// </summary>
    public async Task<IReadOnlyList<MembershipRow>> PruneAsync(string clusterId, TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(olderThan, TimeSpan.Zero);
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            DELETE FROM orleans_membership
            WHERE deploymentid = @clusterId
              AND status = @dead
              AND (@olderThan = interval '0'
                   OR (starttime < now() - @olderThan
                       AND iamalivetime < now() - @olderThan
                       AND orleans_membership_votes_before(suspecttimes, now() - @olderThan)))
            RETURNING siloname, hostname, address, port, generation, proxyport, status, starttime, iamalivetime, suspecttimes
            """, connection);
        command.Parameters.AddWithValue("clusterId", clusterId);
        command.Parameters.AddWithValue("dead", (int)SiloStatusCode.Dead);
        command.Parameters.AddWithValue("olderThan", olderThan);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var removed = new List<MembershipRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            removed.Add(MembershipTableReader.ReadRow(reader));
        }

        return removed.OrderBy(r => r.StartTime).ThenBy(r => r.Port).ToList();
    }
}
