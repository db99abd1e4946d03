using Npgsql;

namespace Shards.Postgres;

/// <summary>Orleans' silo statuses as the membership table stores them.</summary>
public enum SiloStatusCode
{
    None = 0,
    Created = 1,
    Joining = 2,
    Active = 3,
    ShuttingDown = 4,
    Stopping = 5,
    Dead = 6,
}

/// <summary>One row of the membership table: one silo incarnation (address, port, generation).</summary>
public sealed record MembershipRow(
    string SiloName,
    string HostName,
    string Address,
    int Port,
    int Generation,
    int GatewayPort,
    SiloStatusCode Status,
    DateTimeOffset StartTime,
    DateTimeOffset IAmAliveTime,
    string? SuspectTimes)
{
    public string Endpoint => $"{Address}:{Port}";

    /// <summary>Orleans' silo address text (ip:port@generation), as grains report it.</summary>
    public string SiloAddress => $"S{Address}:{Port}:{Generation}";
}

/// <summary>
/// Reads the Orleans membership table straight from PostgreSQL: it is Shards' service registry, so
/// <c>shards members</c>, the launcher and the demo read it without needing a silo to answer.
/// </summary>
/// <param name="database">The main database, where the membership table is (its data source: <see cref="PostgresDataSources"/>).</param>
public sealed class MembershipTableReader(NpgsqlDataSource database)
{
    /// <summary>The data sources of <see cref="ReadAsync(string, string, CancellationToken)"/>: one per database for the whole process.</summary>
    private static readonly PostgresDataSources s_withoutRegistry = new();

    /// <summary>
    /// Reads the table at <paramref name="connectionString"/>, for code that has no <see cref="PostgresDataSources"/> of
    /// its own (the launcher's loops): through one registry for the whole process, never disposed, as Npgsql's own pools
    /// are. Code that has a registry reads through an instance on its data source.
    /// </summary>
    public static Task<IReadOnlyList<MembershipRow>> ReadAsync(
        string connectionString, string clusterId, CancellationToken cancellationToken = default) =>
        new MembershipTableReader(s_withoutRegistry.For(connectionString)).ReadAsync(clusterId, cancellationToken);

    /// <summary>Every row of cluster <paramref name="clusterId"/>, oldest first.</summary>
    public async Task<IReadOnlyList<MembershipRow>> ReadAsync(string clusterId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT siloname, hostname, address, port, generation, proxyport, status, starttime, iamalivetime, suspecttimes
            FROM orleans_membership
            WHERE deploymentid = @clusterId
            ORDER BY starttime, port
            """, connection);
        command.Parameters.AddWithValue("clusterId", clusterId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<MembershipRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(ReadRow(reader));
        }

        return rows;
    }

    /// <summary>
    /// The rows of every cluster in the table whose silo is not dead (created, joining, active, shutting down or
    /// stopping), with their cluster ID: the silos that may hold a shard map or use this database.
    /// </summary>
    public async Task<IReadOnlyList<(string ClusterId, MembershipRow Row)>> ReadNotDeadAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT siloname, hostname, address, port, generation, proxyport, status, starttime, iamalivetime, suspecttimes, deploymentid
            FROM orleans_membership
            WHERE status NOT IN (@none, @dead)
            ORDER BY deploymentid, starttime, port
            """, connection);
        command.Parameters.AddWithValue("none", (int)SiloStatusCode.None);
        command.Parameters.AddWithValue("dead", (int)SiloStatusCode.Dead);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<(string, MembershipRow)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetString(10), ReadRow(reader)));
        }

        return rows;
    }

    /// <summary>One row in the column order siloname, hostname, address, port, generation, proxyport, status, starttime, iamalivetime, suspecttimes.</summary>
    internal static MembershipRow ReadRow(NpgsqlDataReader reader) =>
        new(
            SiloName: reader.GetString(0),
            HostName: reader.GetString(1),
            Address: reader.GetString(2),
            Port: reader.GetInt32(3),
            Generation: reader.GetInt32(4),
            GatewayPort: reader.IsDBNull(5) ? 0 : reader.GetInt32(5),
            Status: (SiloStatusCode)reader.GetInt32(6),
            StartTime: reader.GetFieldValue<DateTimeOffset>(7),
            IAmAliveTime: reader.GetFieldValue<DateTimeOffset>(8),
            SuspectTimes: reader.IsDBNull(9) ? null : reader.GetString(9));
}
